"""RiakBackend against Riak's HTTP API: the test server, or a real Riak (TIMAK_TEST_RIAK_URL)."""

import json
import logging
import subprocess
import sys

import pytest
import urllib3

from django_timak import Timeline
from django_timak.backends.base import Versioned
from django_timak.backends.riak import RiakBackend
from django_timak.backends.riak.multipart import parse_siblings
from django_timak.exceptions import BucketTypeMissing, TimelineBackendError, TooManySiblings
from tests.riak_fixtures import value_holding

DEAD_URL = "http://127.0.0.1:1"
#: Values that trip careless multipart parsers: CRLFs, delimiter look-alikes, a bare CR, NULs.
AWKWARD_VALUES = [b"", b"\r\n", b"x\r\n--", b"\r\n--boundary\r\n", b"ends with CR\r", b"\x00\xff" * 8]


@pytest.fixture
def backend(riak_url, riak_bucket):
    backend = RiakBackend(riak_url, bucket=riak_bucket, timeout=5)
    yield backend
    backend.close()


def stored_keys(riak_url, bucket):
    """Return the keys Riak holds in the bucket, as Riak names them (listing keys: tests only)."""
    answer = urllib3.request("GET", f"{riak_url}/types/timak/buckets/{bucket}/keys?keys=true")
    return set(json.loads(answer.data)["keys"])


# Reading and writing


def test_a_missing_key_reads_as_no_values_and_no_token(backend):
    assert backend.read("never") == Versioned([], None)


def test_a_value_round_trips_byte_for_byte(backend):
    for number, value in enumerate(AWKWARD_VALUES):
        backend.write(f"k{number}", value, None)
        assert backend.read(f"k{number}").values == [value]


def test_blind_writes_become_siblings_and_a_write_with_their_token_replaces_them(backend):
    for value in AWKWARD_VALUES:
        backend.write("k", value, None)
    found = backend.read("k")
    assert sorted(found.values) == sorted(AWKWARD_VALUES)
    backend.write("k", b"merged", found.token)
    assert backend.read("k").values == [b"merged"]


def test_a_write_replaces_only_the_siblings_its_token_saw(backend):
    backend.write("k", b"one", None)
    backend.write("k", b"two", None)
    seen = backend.read("k").token
    backend.write("k", b"three", None)
    backend.write("k", b"one+two", seen)
    assert sorted(backend.read("k").values) == [b"one+two", b"three"]


def test_a_blind_append_beside_a_resolved_value_stays_a_sibling_until_a_write_with_its_token(backend):
    """What fan-out by blind appends builds on: a PUT without a vclock never replaces a value."""
    backend.write("k", b"base", None)
    backend.write("k", b"resolved", backend.read("k").token)
    assert backend.read("k").values == [b"resolved"]
    backend.write("k", b"delta", None)
    found = backend.read("k")
    assert sorted(found.values) == [b"delta", b"resolved"]
    backend.write("k", b"merged", found.token)
    assert backend.read("k").values == [b"merged"]


def test_append_says_how_many_values_the_key_holds(backend):
    assert [backend.append("k", b"%d" % n) for n in range(3)] == [1, 2, 3]
    found = backend.read("k")
    assert sorted(found.values) == [b"0", b"1", b"2"]
    backend.write("k", b"merged", found.token)
    assert backend.append("k", b"3") == 2
    assert sorted(backend.read("k").values) == [b"3", b"merged"]


@pytest.mark.fault
def test_an_append_past_the_sibling_limit_is_too_many_siblings(riak_fault_server, riak_bucket):
    riak_fault_server.max_siblings = 3
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket)
    assert [backend.append("k", b"%d" % n) for n in range(3)] == [1, 2, 3]
    with pytest.raises(TooManySiblings, match="it would hold 4 siblings") as caught:
        backend.append("k", b"3")
    assert caught.value.key == "k"


def test_append_many_appends_each_key_once(backend):
    assert backend.append_many({"a": b"1", "b": b"2"}) == {"a": 1, "b": 1}
    assert backend.append_many({"a": b"3"}) == {"a": 2}
    assert sorted(backend.read("a").values) == [b"1", b"3"]


def test_an_append_under_a_missing_bucket_type_is_an_error(riak_url, riak_bucket):
    backend = RiakBackend(riak_url, bucket_type="nosuchtype", bucket=riak_bucket)
    with pytest.raises(BucketTypeMissing):
        backend.append("k", b"x")


def test_a_timeline_merges_blind_appends_beside_its_value(backend):
    timeline = Timeline(backend, max_items=10, compact_on_read=3)
    timeline.add("k", 1, 1)
    for number in (2, 3):
        backend.append("k", value_holding(number))
    assert len(backend.read("k").values) == 3
    assert timeline.get("k") == [3, 2, 1]
    assert len(backend.read("k").values) == 1


@pytest.mark.fault  # the order is the test server's; a real node's depends on its vnodes
def test_siblings_come_in_riaks_order_not_the_write_order_and_the_merge_does_not_care(riak_fault_server, riak_bucket):
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket)
    written = [value_holding(number) for number in range(10)]
    for value in written:
        backend.write("k", value, None)
    found = backend.read("k").values
    assert sorted(found) == sorted(written) and found != written
    assert Timeline(backend, max_items=20).get("k") == list(range(9, -1, -1))


def test_a_deleted_key_reads_empty_with_the_tombstone_vclock(backend):
    backend.write("k", b"x", None)
    backend.delete("k", backend.read("k").token)
    found = backend.read("k")
    assert found.values == [] and found.token is not None
    backend.write("k", b"after", found.token)
    assert backend.read("k").values == [b"after"]


def test_a_tombstone_sibling_is_not_a_value(backend):
    backend.write("k", b"x", None)
    before = backend.read("k").token
    backend.delete("k", before)
    backend.write("k", b"y", before)
    assert backend.read("k").values == [b"y"]


def test_deleting_a_missing_key_is_not_an_error(backend):
    backend.delete("never", None)
    assert backend.read("never").values == []


@pytest.mark.parametrize("keys", [["a/b", "a%2Fb", "a%252Fb"], ["a?b", "a#b", "a&b=c"], ["..", ".", "./k", "../k"], ["a b", "a+b", "a%20b"], ["ключ", "鍵", "k\u00e9"]])
def test_keys_that_look_like_paths_are_distinct_objects(backend, riak_url, riak_bucket, keys):
    for key in keys:
        backend.write(key, key.encode(), None)
    assert {key: backend.read(key).values for key in keys} == {key: [key.encode()] for key in keys}
    assert stored_keys(riak_url, riak_bucket) == set(keys)


@pytest.mark.fault  # what read_many returns is tested on every backend in test_pull_pages
def test_read_many_reads_concurrently(riak_fault_server, riak_bucket):
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket, pool_size=8)
    riak_fault_server.latency = 0.1
    assert len(backend.read_many([f"k{n}" for n in range(8)])) == 8
    assert riak_fault_server.most_in_flight > 1  # one after another would never overlap


# Riak's own answers


def test_quorum_options_reach_riak(riak_url, riak_bucket):
    backend = RiakBackend(riak_url, bucket=riak_bucket, r="one", w=5)
    assert backend.read("k").values == []
    with pytest.raises(TimelineBackendError, match="invalid for bucket n value") as caught:
        backend.write("k", b"x", None)
    assert caught.value.status == 400 and caught.value.key == "k"


def test_an_unknown_bucket_type_is_an_error_not_a_missing_key(riak_url, riak_bucket):
    backend = RiakBackend(riak_url, bucket_type="nosuchtype", bucket=riak_bucket)
    with pytest.raises(BucketTypeMissing, match="no active bucket type 'nosuchtype'") as caught:
        backend.read("k")
    assert caught.value.status == 404


def test_too_many_siblings_names_the_limit(riak_url, riak_bucket):
    backend = RiakBackend(riak_url, bucket=riak_bucket, retries=0)
    for number in range(100):
        backend.write("k", b"%d" % number, None)
    with pytest.raises(TooManySiblings, match=r"101 siblings, over the node's object\.siblings\.maximum") as caught:
        backend.write("k", b"one too many", None)
    assert caught.value.status == 500 and caught.value.key == "k"


def test_many_siblings_log_a_warning_naming_the_key(riak_url, riak_bucket, caplog):
    backend = RiakBackend(riak_url, bucket=riak_bucket, sibling_warning=3)
    for number in range(3):
        backend.write("k", b"%d" % number, None)
    with caplog.at_level(logging.WARNING, logger="django_timak"):
        backend.read("k")
        assert caplog.records == []
        backend.write("k", b"3", None)
        backend.read("k")
    assert [r.getMessage() for r in caplog.records] == [
        "timak: Riak key 'k' has 4 siblings (over 3): writers are outpacing merges; "
        "Riak refuses writes past object.siblings.maximum (100 by default)"
    ]


def test_ping(riak_url):
    assert RiakBackend(riak_url).ping() is True
    assert RiakBackend(DEAD_URL).ping() is False


# Failures: bounded in time, wrapped once


class FakeClock:
    """Stands in for the transport's ``time``: sleeping and waiting only move its hands."""

    def __init__(self):
        self.now = 0.0
        self.pauses = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.pauses.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_clock(monkeypatch):
    from django_timak.backends.riak import transport

    clock = FakeClock()
    monkeypatch.setattr(transport, "time", clock)
    return clock


@pytest.mark.fault
def test_a_stopped_riak_is_retried_with_backoff_then_raises(riak_fault_server, riak_bucket, fake_clock):
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket, timeout=0.5, retries=2, backoff=0.05)
    riak_fault_server.down()
    with pytest.raises(TimelineBackendError, match="Connection refused") as caught:
        backend.read("k")
    assert fake_clock.pauses == [0.05, 0.1] and caught.value.status is None


@pytest.mark.parametrize("nodes", [1, 3])
def test_a_call_ends_within_timeout_times_attempts_however_its_nodes_fail(fake_clock, monkeypatch, nodes):
    """Each attempt waits at most what is left of the budget; backoff never overruns it."""
    from django_timak.backends.riak import transport

    waits = []

    def stalled(self, node, method, target, headers, body, timeout, left, request):
        waits.append(min(timeout, left))
        fake_clock.now += min(timeout, left)
        return transport._Failure(node, request, TimeoutError("read timed out"))

    monkeypatch.setattr(transport.Transport, "_attempt", stalled)
    urls = [f"http://127.0.0.1:{port}" for port in range(9001, 9001 + nodes)]
    backend = RiakBackend(urls=urls, timeout=0.3, retries=2, backoff=0.05)
    with pytest.raises(TimelineBackendError, match="timed out"):
        backend.read("k")
    assert fake_clock.now <= 0.3 * 3 + 1e-9
    assert len(waits) == 3 and all(wait > 0 for wait in waits)


@pytest.mark.fault
def test_503_is_retried_then_raised_with_riaks_answer(riak_fault_server, riak_bucket):
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket, retries=2)
    riak_fault_server.fail_every = 1
    before = riak_fault_server.requests
    with pytest.raises(TimelineBackendError, match="503 Service Unavailable") as caught:
        backend.write("k", b"x", None)
    assert caught.value.status == 503 and riak_fault_server.requests - before == 3


@pytest.mark.fault
def test_one_503_or_dropped_connection_is_retried_away(riak_fault_server, riak_bucket):
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket, retries=1)
    riak_fault_server.fail_next()
    backend.write("k", b"x", None)
    riak_fault_server.drop_next()
    assert backend.read("k").values == [b"x"]


@pytest.mark.fault
def test_a_stalled_riak_times_out_after_at_most_retries_plus_one_requests(riak_fault_server, riak_bucket):
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket, timeout=0.3, retries=2)
    riak_fault_server.stall_every, riak_fault_server.stall_seconds = 1, 1.0
    before = riak_fault_server.requests
    with pytest.raises(TimelineBackendError, match="timed out"):
        backend.read("k")
    assert 1 <= riak_fault_server.requests - before <= 3


def test_constructing_never_connects():
    backend = RiakBackend(DEAD_URL)
    with pytest.raises(TimelineBackendError):
        backend.read("k")


def test_builds_with_no_arguments():
    backend = RiakBackend()
    assert (backend.url, backend.bucket_type, backend.bucket) == ("http://127.0.0.1:8098", "timak", "timelines")
    assert backend.networked


@pytest.mark.parametrize(
    "options, message",
    [
        ({"url": "ftp://riak:8098"}, "http:// or https://"),
        ({"url": "127.0.0.1:8098"}, "http:// or https://"),
        ({"url": "http://user:secret@riak:8098"}, "credentials"),
        ({"url": "http://riak:port"}, "Port could not be cast"),
        ({"bucket": ""}, "bucket must be a non-empty string"),
        ({"bucket_type": None}, "bucket_type must be a non-empty string"),
        ({"timeout": -1}, "timeout must be a number of at least"),
        ({"timeout": "5"}, "timeout must be a number"),
        ({"pool_size": 0}, "pool_size must be a number of at least 1"),
        ({"retries": 1.5}, "retries must be a number"),
        ({"w": "most"}, "w must be a non-negative int or one of all, default, one, quorum"),
        ({"pr": -1}, "pr must be a non-negative int"),
        ({"sibling_warning": 0}, "sibling_warning must be a number of at least 1"),
    ],
)
def test_invalid_options_raise_value_error(options, message):
    with pytest.raises(ValueError, match=message):
        RiakBackend(**options)


@pytest.mark.subprocess
def test_importing_the_backend_loads_neither_django_checks_nor_the_test_server():
    code = (
        "import sys, django_timak.backends.riak, django_timak.testing.riak; "
        "print(sorted(m for m in ('django.core.checks', 'trustme') if m in sys.modules)); "
        "import django_timak.backends.riak as riak; print(riak.RiakBackend.__module__)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split("\n")[:2] == ["[]", "django_timak.backends.riak"]


@pytest.mark.subprocess
def test_the_library_never_imports_the_testing_package():
    code = (
        "import sys, django; from django.conf import settings; settings.configure(INSTALLED_APPS=['django_timak']); "
        "django.setup(); from django_timak.backends.riak import RiakBackend; RiakBackend().check(); "
        "print([m for m in sys.modules if m.startswith('django_timak.testing')])"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


# Multipart parsing, byte for byte


def test_parse_siblings_keeps_awkward_values_exact():
    body = b"".join(b"\r\n--XyZ\r\nContent-Type: application/octet-stream\r\n\r\n" + v for v in AWKWARD_VALUES)
    parts = parse_siblings('multipart/mixed; boundary="XyZ"', body + b"\r\n--XyZ--\r\n")
    assert [value for _, value in parts] == AWKWARD_VALUES


def test_parse_siblings_reads_headers_case_insensitively():
    body = b"--b\r\nX-Riak-Deleted: true\r\nEtag: 4JYn\r\n\r\n\r\n--b\r\n\r\nno headers\r\n--b--"
    assert parse_siblings("multipart/mixed; boundary=b", body) == [
        ({"x-riak-deleted": "true", "etag": "4JYn"}, b""),
        ({}, b"no headers"),
    ]


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("text/plain", b"Siblings:\nabc\n"),
        ("multipart/mixed", b"\r\n--b\r\n\r\nx\r\n--b--"),
        ("multipart/mixed; boundary=b", b"\r\n--b\r\n\r\ntruncated"),
        ("multipart/mixed; boundary=b", b"\r\n--b\r\nno blank line\r\n--b--"),
        ("multipart/mixed; boundary=b", b"\r\n--bogus\r\n\r\nx\r\n--b--"),
    ],
)
def test_parse_siblings_refuses_what_is_not_a_complete_multipart_body(content_type, body):
    with pytest.raises(ValueError):
        parse_siblings(content_type, body)
