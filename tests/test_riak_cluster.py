"""Several Riak nodes: spreading, failover, safe retries, per-node checks, and a node killed mid fan-out.

Three test-server listeners share one store, as the nodes of one cluster share its data.
Every assertion counts requests per node; none measures time.
"""

import uuid

import pytest
from django.core.management import call_command
from django.test import override_settings

from django_timak import Timeline, outbox, timelines
from django_timak.backends.riak import RiakBackend
from django_timak.exceptions import RiakWriteInterrupted, TimelineBackendError
from django_timak.models import PendingOperation
from tests.models import Follow, Post, User

pytestmark = pytest.mark.fault

#: Long enough that a node marked down stays so for the whole test.
LONG = 600.0


def cluster_backend(cluster, bucket, **options):
    return RiakBackend(urls=cluster.urls, bucket=bucket, **{"retries": 0, "down_for": LONG, **options})


def puts(node):
    return [request for request in node.handled if request.startswith("PUT ")]


def test_requests_take_turns_over_the_nodes(riak_cluster, riak_bucket):
    backend = cluster_backend(riak_cluster, riak_bucket)
    for number in range(30):
        backend.read(f"k{number}")
    assert [node.requests for node in riak_cluster.nodes] == [10, 10, 10]


def test_a_failing_node_is_skipped_until_down_for_passes(riak_cluster, riak_bucket, caplog):
    backend = cluster_backend(riak_cluster, riak_bucket)
    failing = riak_cluster.nodes[1]
    failing.fail_every = 1
    for number in range(20):
        backend.write(f"k{number}", b"x", None)
        assert backend.read(f"k{number}").values == [b"x"]
    assert failing.requests == 1
    assert [r.getMessage() for r in caplog.records if "failed" in r.getMessage()] == [
        f"timak: Riak node {failing.url} failed (503 Service Unavailable); other nodes are tried first for 600 s"
    ]


def test_a_node_marked_down_comes_back_when_it_answers(riak_cluster, riak_bucket):
    backend = cluster_backend(riak_cluster, riak_bucket)
    first, second, third = riak_cluster.nodes
    first.down()
    backend.read("k")  # first refuses: marked down, the read goes on to the second
    second.down()
    third.down()
    first.up()
    assert backend.read("k").values == []  # every node is down: the one marked longest ago is tried
    second.up()
    third.up()
    before = [node.requests for node in riak_cluster.nodes]
    for _ in range(6):
        backend.read("k")
    # The first answered, so it is up; the others stay marked down until down_for passes.
    assert [node.requests - b for node, b in zip(riak_cluster.nodes, before)] == [6, 0, 0]


def test_with_down_for_0_a_failed_node_is_tried_in_turn_again(riak_cluster, riak_bucket):
    backend = cluster_backend(riak_cluster, riak_bucket, down_for=0)
    riak_cluster.nodes[0].fail_next()
    backend.read("k")
    before = [node.requests for node in riak_cluster.nodes]
    for _ in range(6):
        backend.read("k")
    assert [node.requests - b for node, b in zip(riak_cluster.nodes, before)] == [2, 2, 2]


def test_a_stalled_node_costs_one_timeout_then_the_call_moves_on(riak_cluster, riak_bucket):
    backend = cluster_backend(riak_cluster, riak_bucket, timeout=0.3, retries=1)
    stalled = riak_cluster.nodes[0]
    stalled.stall_every, stalled.stall_seconds = 1, 2.0
    backend.append("k", b"x")  # blind: may be sent again
    assert backend.read("k").values == [b"x"]
    assert stalled.requests == 1


def test_a_blind_append_is_sent_again_to_another_node(riak_cluster, riak_bucket):
    backend = cluster_backend(riak_cluster, riak_bucket)
    riak_cluster.nodes[0].fail_next()
    assert backend.append("k", b"appended") == 1
    assert [len(puts(node)) for node in riak_cluster.nodes] == [1, 1, 0]
    assert backend.read("k").values == [b"appended"]


def test_a_read_merge_write_is_not_sent_again_but_read_again(riak_cluster, riak_bucket):
    backend = cluster_backend(riak_cluster, riak_bucket)
    timeline = Timeline(backend, max_items=10)
    timeline.add("k", 1, 1)
    token = backend.read("k").token
    next_node = riak_cluster.nodes[backend._transport._turn]
    next_node.drop_next()  # the next call's first node cuts the PUT: it may have landed
    with pytest.raises(RiakWriteInterrupted):
        backend.write("k", b"merged", token)
    assert sum(len(puts(node)) for node in riak_cluster.nodes) == 2  # the add's, and the cut one


def test_a_timeline_write_cut_on_one_node_is_merged_again_on_another(riak_cluster, riak_bucket):
    backend = cluster_backend(riak_cluster, riak_bucket)
    timeline = Timeline(backend, max_items=10)
    timeline.add("k", 1, 1)
    # Calls take turns: the add's read goes to the next node, its write to the one after.
    riak_cluster.nodes[(backend._transport._turn + 1) % 3].crash_after(0)
    assert timeline.add("k", 2, 2) == [2, 1]
    # GETs of the key itself (a writer also reads the erasure record, once a minute).
    gets = sum(
        request.startswith("GET ") and request.split()[1].split("?")[0].endswith("/keys/k")
        for node in riak_cluster.nodes
        for request in node.handled
    )
    assert gets == 3  # the first add's read, and the second add's read, done twice
    assert timeline.get("k") == [2, 1]


def test_a_read_merge_write_on_the_last_node_up_fails_without_a_resend(riak_cluster, riak_bucket):
    backend = cluster_backend(riak_cluster, riak_bucket)
    backend.write("k", b"x", None)
    token = backend.read("k").token
    riak_cluster.nodes[1].down()
    riak_cluster.nodes[2].down()
    backend.read("k")
    backend.read("k")  # both marked down now
    riak_cluster.nodes[0].fail_next()
    with pytest.raises(TimelineBackendError, match="503") as caught:
        backend.write("k", b"y", token)
    assert not isinstance(caught.value, RiakWriteInterrupted)
    assert len(puts(riak_cluster.nodes[0])) == 2


def test_ping_and_node_status_report_each_node(riak_cluster, riak_bucket):
    backend = cluster_backend(riak_cluster, riak_bucket)
    down = riak_cluster.nodes[2]
    down.down()
    status = backend.node_status()
    assert list(status) == riak_cluster.urls
    assert [error is None for error in status.values()] == [True, True, False]
    assert "Connection refused" in status[down.url].message
    assert backend.ping() is True
    for node in riak_cluster.nodes[:2]:
        node.down()
    assert backend.ping() is False


def test_check_warns_about_each_node_that_does_not_answer(riak_cluster, riak_bucket):
    backend = cluster_backend(riak_cluster, riak_bucket)
    assert backend.check() == []
    down = riak_cluster.nodes[1]
    down.down()
    [warning] = backend.check()
    assert (warning.id, warning.msg) == (
        "django_timak.W104", f"Riak node {down.url} did not answer; requests go to the other nodes.",
    )
    assert warning.hint.endswith("Start the node or remove it from OPTIONS URLS.")
    for node in riak_cluster.nodes:
        node.down()
    assert [m.id for m in backend.check()] == ["django_timak.W101"]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"urls": []}, "urls must be a non-empty list"),
        ({"urls": "http://a:8098"}, "urls must be a non-empty list"),
        ({"urls": ["http://a:8098", "http://a:8098/"]}, "names the same node twice"),
        ({"url": "http://a:8098", "urls": ["http://b:8098"]}, "give URL (one node) or URLS (several), not both"),
        ({"urls": ["http://a:8098"], "down_for": -1}, "down_for must be a number of at least 0"),
    ],
)
def test_invalid_node_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        RiakBackend(**options)


# End to end: fan-out through the outbox while a node dies and comes back

AUTHORS, READERS, POSTS = 4, 15, 40


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("clear_memory")
def test_a_node_killed_mid_fan_out_loses_nothing(riak_cluster, riak_bucket, settings):
    config = {
        "BACKEND": "django_timak.backends.riak.RiakBackend",
        "OPTIONS": {"URLS": riak_cluster.urls, "BUCKET": riak_bucket, "TIMEOUT": 0.3, "RETRIES": 0, "DOWN_FOR": LONG},
        "MAX_ITEMS": 1000,
    }
    memory = settings.TIMAK_TIMELINES["memory"]
    settings.TIMAK_TIMELINES = {"default": config, "memory": memory}
    settings.TIMAK_OUTBOX = {"BACKOFF": 0.01, "MAX_BACKOFF": 0.05, "LEASE": 1.0}
    authors = [User.objects.create(username=f"author{i}") for i in range(AUTHORS)]
    readers = [User.objects.create(username=f"reader{i}") for i in range(READERS)]
    Follow.objects.bulk_create([Follow(follower=r, followee=a) for a in authors for r in readers])
    victim = riak_cluster.nodes[1]
    victim.crash_after(40)  # a few saves in, in the middle of one save's fan-out
    for i in range(POSTS):
        Post.objects.create(author=authors[i % AUTHORS], body=f"post {i}")
    assert not victim.is_up and victim.requests > 40
    keys = [f"user:{a.pk}:posts" for a in authors] + [f"user:{r.pk}:home" for r in readers]
    outbox.drain_all()  # what failed, if anything did, while the node is still down
    while_down = {key: timelines["default"].get(key) for key in keys}
    victim.up()
    outbox.drain_all()
    assert not PendingOperation.objects.exists()
    after = {key: timelines["default"].get(key) for key in keys}
    assert after == while_down
    assert all(len(items) == POSTS // AUTHORS for key, items in after.items() if key.endswith(":posts"))
    assert all(len(items) == POSTS for key, items in after.items() if key.endswith(":home"))
    with override_settings(TIMAK_TIMELINES={"default": {**config, "OPTIONS": {**config["OPTIONS"], "BUCKET": f"rebuilt-{uuid.uuid4().hex}"}}, "memory": memory}):
        call_command("rebuild_timelines", verbosity=0)
        assert {key: timelines["default"].get(key) for key in keys} == after
