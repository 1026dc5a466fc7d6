"""The erasure record on Riak: concurrent erasers leave siblings, and every read joins them."""

import threading

from django_timak import Timeline, erasure_record as record
from django_timak.backends.riak import RiakBackend
from django_timak.entries import Entry


def test_concurrent_erasures_become_siblings_that_every_read_joins(riak_url, riak_bucket):
    writers = [Timeline(RiakBackend(riak_url, bucket=riak_bucket), max_items=10, compact_on_append=50) for _ in range(4)]
    writers[0].replay("home", [Entry(i, i, 1, None, False, f"u:{i}") for i in range(8)])
    start = threading.Barrier(len(writers))

    def erase(n, timeline):
        start.wait()
        timeline.erase_actor(f"u:{n}")
        timeline.erase_actor(f"u:{n + 4}" if n < 3 else 7)

    threads = [threading.Thread(target=erase, args=(n, t)) for n, t in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(writers[0].backend.read(record.ERASURE_KEY).values) == 8, "each blind append is a sibling"
    expected = {"u:0", "u:1", "u:2", "u:3", "u:4", "u:5", "u:6", 7}
    for timeline in writers:
        assert timeline.erased_actors() == expected
    assert writers[1].get("home") == [7]
    assert writers[2].page("home").items == [7]


def test_compacting_the_record_on_riak_keeps_every_erasure(riak_url, riak_bucket):
    timeline = Timeline(RiakBackend(riak_url, bucket=riak_bucket), compact_on_append=3)
    for n in range(7):
        timeline.erase_actor(f"u:{n}")
    assert len(timeline.backend.read(record.ERASURE_KEY).values) < 3
    assert timeline.erased_actors() == {f"u:{n}" for n in range(7)}
