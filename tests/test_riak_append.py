"""Appends on Riak: concurrent blind PUTs over the pool, counted from their answers, merged on read.

Against the Riak test server (or a real Riak when TIMAK_TEST_RIAK_URL is set); the
tests that need its knobs (latency, the sibling maximum) are marked ``fault``.
"""

import pytest

from django_timak import Timeline, codecs
from django_timak.backends.riak import RiakBackend
from django_timak.entries import Entry, tombstone
from django_timak.exceptions import TooManySiblings


@pytest.fixture
def backend(riak_url, riak_bucket):
    backend = RiakBackend(riak_url, bucket=riak_bucket, timeout=5)
    yield backend
    backend.close()


def test_append_many_counts_each_key_from_its_own_answer(backend):
    backend.write("written", b"base", None)
    backend.append("twice", b"one")
    assert backend.append_many({"written": b"a", "twice": b"b", "new": b"c"}) == {"written": 2, "twice": 2, "new": 1}
    assert sorted(backend.read("twice").values) == [b"b", b"one"]
    assert backend.append_many({}) == {}


def test_a_value_appended_during_a_read_merge_write_survives_it(backend):
    backend.append("k", b"read")
    token = backend.read("k").token
    backend.append_many({"k": b"meanwhile"})
    backend.write("k", b"merged", token)
    assert sorted(backend.read("k").values) == [b"meanwhile", b"merged"]


@pytest.mark.fault
def test_append_many_puts_concurrently_over_the_pool(riak_fault_server, riak_bucket):
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket, pool_size=8)
    riak_fault_server.latency = 0.1
    assert backend.append_many({f"k{n}": b"v" for n in range(8)}) == {f"k{n}": 1 for n in range(8)}
    assert riak_fault_server.most_in_flight > 1  # one after another would never overlap


def test_a_fanned_out_post_shows_on_every_key_and_a_later_delete_wins(backend):
    timeline = Timeline(backend, max_items=10)
    keys = [f"follower:{n}:home" for n in range(20)]
    timeline.append_changes({key: [Entry("post:1", 5, 10, {"text": "hi"})] for key in keys})
    timeline.append_changes({key: [tombstone("post:1", 11)] for key in keys[:10]})
    assert [timeline.get(key) for key in keys] == [[]] * 10 + [[{"text": "hi"}]] * 10


def test_a_key_that_only_receives_appends_is_compacted_at_compact_on_append(backend):
    timeline = Timeline(backend, max_items=10, compact_on_read=100, compact_on_append=3)
    for n in range(7):
        timeline.append_changes({"crowded": [Entry(f"post:{n}", n, 10 + n)]})
        assert len(backend.read("crowded").values) < 3
    assert [e.id for e in timeline.get("crowded", raw=True)] == [f"post:{n}" for n in range(6, -1, -1)]


@pytest.mark.fault
def test_a_key_at_riaks_sibling_maximum_is_compacted_and_the_append_sent_again(riak_fault_server, riak_bucket):
    riak_fault_server.max_siblings = 3
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket)
    for n in range(3):
        backend.append("full", codecs.encode([Entry(f"post:{n}", n, 10 + n)]))
    with pytest.raises(TooManySiblings):
        backend.append_many({"full": b"one too many"})
    timeline = Timeline(backend, compact_on_append=100)
    timeline.append_changes({"full": [Entry("post:3", 3, 13)], "other": [Entry("post:4", 4, 14)]})
    assert [e.id for e in timeline.get("full", raw=True)] == ["post:3", "post:2", "post:1", "post:0"]
    assert [e.id for e in timeline.get("other", raw=True)] == ["post:4"]
