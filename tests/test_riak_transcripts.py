"""Every scenario a real Riak KV 3.2 answered (``riak_transcripts.md``), replayed and compared.

The transcripts are one session, so they are replayed in order against a fresh bucket
(the test server, or a real node with TIMAK_TEST_RIAK_URL), with the vclocks the node
under test answered put in place of the recorded ones. Each scenario is then one test.
What differs from run to run by nature is compared by shape: vclocks, ETags, dates,
vtags, multipart boundaries, and the order of siblings (Riak's depends on which vnode
coordinated each write). ``riak_transcripts.md`` is a copy of the shared recording.
"""

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import urllib3

from django_timak.backends.riak.multipart import parse_siblings

TRANSCRIPTS = Path(__file__).with_name("riak_transcripts.md")
SHARED_TRANSCRIPTS = Path(__file__).parents[2] / "shared" / "riak" / "transcripts.md"
RECORDED_BUCKET = "transcript-d5052f"
#: Headers that say when and by what, never what.
UNCOMPARED_HEADERS = {"date", "server", "vary"}
SIBLING_LIMIT = "the sibling limit: 110 blind writes, #101 refused"
_FENCE = re.compile(r"^#### (.+?)\n\n```\n(.*?)\n```$", re.M | re.S)


@dataclass
class Message:
    first_line: str
    headers: dict = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Scenario:
    title: str
    request: Message
    answer: Message


def parse_message(text):
    head, blank, body = text.partition("\n\n")
    first_line, *lines = head.split("\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(": ")
        headers[name] = value
    return Message(first_line, headers, body.encode() if blank else b"")


def load_scenarios(text):
    """Return the recorded scenarios in the order they were recorded."""
    scenarios = []
    for title, block in _FENCE.findall(text):
        request, _, answer = block.partition("\n---\n")
        scenarios.append(Scenario(title, parse_message(request), parse_message(answer)))
    return scenarios


SCENARIOS = load_scenarios(TRANSCRIPTS.read_text())
TITLES = [s.title for s in SCENARIOS[:-1]] + [SIBLING_LIMIT, SCENARIOS[-1].title]


class Replay:
    """Send the recorded requests to the node under test, in a bucket of this run's own."""

    def __init__(self, url):
        self.url = url
        self.bucket = f"transcript-{uuid.uuid4().hex[:12]}"
        self.vclocks = {}
        self.http = urllib3.PoolManager(retries=False, timeout=10)

    def send(self, request: Message):
        method, path = request.first_line.split(" ", 1)
        headers = dict(request.headers)
        if "X-Riak-Vclock" in headers:
            headers["X-Riak-Vclock"] = self.vclocks.get(headers["X-Riak-Vclock"], headers["X-Riak-Vclock"])
        body = request.body or None
        return self.http.request(method, self.url + path.replace(RECORDED_BUCKET, self.bucket), body=body,
                                 headers=headers)

    def remember(self, recorded: Message, response):
        if "X-Riak-Vclock" in recorded.headers and "X-Riak-Vclock" in response.headers:
            self.vclocks[recorded.headers["X-Riak-Vclock"]] = response.headers["X-Riak-Vclock"]

    def sibling_limit(self):
        """Return the statuses and bodies of 110 blind writes to one key."""
        path = f"{self.url}/types/timak/buckets/{self.bucket}-many/keys/many"
        answers = []
        for number in range(1, 111):
            response = self.http.request("PUT", path, body=str(number).encode(), headers={"Content-Type": "text/plain"})
            answers.append((response.status, response.data))
        return answers


def differences(recorded: Message, response, replay: Replay):
    """Return what the answer does differently from the recording (empty when it answers alike)."""
    found = []
    status, _, reason = recorded.first_line.partition(" ")
    if (response.status, response.reason) != (int(status), reason):
        found.append(f"status {response.status} {response.reason}, recorded {recorded.first_line}")
    ours = {name.lower(): value for name, value in response.headers.items() if name.lower() not in UNCOMPARED_HEADERS}
    theirs = {name.lower(): value.replace(RECORDED_BUCKET, replay.bucket) for name, value in recorded.headers.items()}
    if set(ours) != set(theirs):
        found.append(f"headers {sorted(ours)}, recorded {sorted(theirs)}")
    body = recorded.body.replace(RECORDED_BUCKET.encode(), replay.bucket.encode())
    exact = True
    content_type = theirs.get("content-type", "")
    if content_type.startswith("multipart/mixed"):
        exact = False
        if body and sibling_shapes(ours.get("content-type", ""), response.data) != sibling_shapes(content_type, body.replace(b"\n", b"\r\n")):
            found.append("sibling parts differ")
        if not ours.get("content-type", "").startswith("multipart/mixed; boundary="):
            found.append(f"content type {ours.get('content-type')!r}")
    elif body.startswith(b"Siblings:\n"):
        exact = False
        if len(response.data.split(b"\n")) != len(body.split(b"\n")) or not response.data.startswith(b"Siblings:\n"):
            found.append(f"vtag list {response.data!r}, recorded {body!r}")
    elif b"(Erlang stack trace left out)" in body:
        exact = False
        prefix = body.split(b"<pre>")[0]
        if not response.data.startswith(prefix):
            found.append(f"body {response.data[:120]!r}, recorded {prefix!r}")
    elif content_type == "application/json" and body:
        exact = False
        if json_shape(response.data) != json_shape(body):
            found.append(f"JSON {response.data!r}, recorded {body!r}")
    elif response.data != body:
        found.append(f"body {response.data!r}, recorded {body!r}")
    for name, value in theirs.items():
        if name in ("x-riak-vclock", "etag", "last-modified") or name not in ours:
            continue  # differ from run to run; their presence is compared above
        if name == "content-type" and exact is False and value.startswith("multipart/mixed"):
            continue
        if name == "content-length" and not exact:
            continue
        if ours[name] != value:
            found.append(f"{name}: {ours[name]!r}, recorded {value!r}")
    return found


def sibling_shapes(content_type, body):
    """The parts of a multipart answer without what differs by run, as a sorted list (order is Riak's choice)."""
    shapes = []
    for headers, value in parse_siblings(content_type, body):
        shapes.append((tuple(sorted(name for name in headers)), headers.get("content-type"), headers.get("link"),
                       headers.get("x-riak-deleted"), value))
    return sorted(shapes, key=repr)


def json_shape(body):
    """Parsed JSON, with key lists as sets: Riak lists keys and properties in no fixed order."""
    try:
        value = json.loads(body)
    except ValueError:
        return body
    if isinstance(value, dict) and "keys" in value:
        return {"keys": sorted(value["keys"])}
    return value


@pytest.fixture(scope="module")
def replayed(riak_url):
    """Replay every scenario once; return each one's differences by title."""
    replay = Replay(riak_url)
    results = {}
    for scenario in SCENARIOS:
        if scenario is SCENARIOS[-1]:
            results[SIBLING_LIMIT] = replay.sibling_limit()
        response = replay.send(scenario.request)
        replay.remember(scenario.answer, response)
        results[scenario.title] = differences(scenario.answer, response, replay)
    return results


def test_every_recorded_scenario_is_replayed():
    assert len(SCENARIOS) == 53 and len(TITLES) == 54
    assert len(set(TITLES)) == 54


def test_the_copy_is_the_shared_recording():
    if not SHARED_TRANSCRIPTS.exists():
        pytest.skip(f"no shared recording at {SHARED_TRANSCRIPTS}")
    assert TRANSCRIPTS.read_text() == SHARED_TRANSCRIPTS.read_text()


@pytest.mark.parametrize("title", TITLES)
def test_the_node_answers_as_recorded(replayed, title):
    if title == SIBLING_LIMIT:
        answers = replayed[title]
        assert [status for status, _ in answers] == [204] * 100 + [500] * 10
        assert answers[100] == (500, b"Error:\n{too_many_siblings,101}\n")
    else:
        assert replayed[title] == []
