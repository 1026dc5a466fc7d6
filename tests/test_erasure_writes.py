"""Writes forget erased actors: every write that re-encodes a value leaves their items out.

Read compaction and ``purge_actors`` already did; here an append's compaction
(``compact_on_append``), a read-merge-write (``add``, ``replay``), a compaction after
``TooManySiblings`` and a follow's ``copy_items`` do too, on every store. A writer to
Riak trusts the record it last read for ``KNOWN_FOR`` seconds instead of a second GET.
"""

import pytest

from django_timak import Timeline, codecs, erasure_record
from django_timak.entries import Entry
from tests.layout_stores import store  # noqa: F401 (the fixture)

GONE, KEPT = "u:gone", "u:kept"


def items(count, start=0, clock=1):
    return [Entry(i, i, clock, {"secret": i}, False, GONE if i % 2 else KEPT) for i in range(start, start + count)]


def stored_actors(timeline, key):
    """Return the actors of every entry in every value ``key`` holds, read raw from the store."""
    return {e.actor for value in timeline.backend.read(key).values for e in codecs.decode(value) if not e.deleted}


@pytest.fixture
def timeline(store):  # noqa: F811
    return Timeline(store, max_items=50, compact_on_append=3, compact_on_read=50)


def test_an_appends_compaction_writes_the_key_back_without_the_erased_actors_items(timeline):
    timeline.replay("home", items(10))
    timeline.erase_actor(GONE)
    timeline.append_changes({"home": [Entry(20, 20, 5, None, False, KEPT)]})
    assert GONE in stored_actors(timeline, "home"), "one append compacts nothing yet"
    timeline.append_changes({"home": [Entry(21, 21, 6, None, False, GONE)]})
    assert len(timeline.backend.read("home").values) == 1
    assert stored_actors(timeline, "home") == {KEPT}
    assert timeline.get("home") == [20, {"secret": 8}, {"secret": 6}, {"secret": 4}, {"secret": 2}, {"secret": 0}]


def test_a_fan_outs_compaction_of_many_keys_forgets_them_in_every_key(timeline):
    keys = [f"home:{n}" for n in range(4)]
    for key in keys:
        timeline.replay(key, items(6))
    timeline.erase_actor(GONE)
    for clock in (5, 6):
        timeline.append_changes({key: [Entry(clock * 10, clock * 10, clock, None, False, KEPT)] for key in keys})
    assert all(stored_actors(timeline, key) == {KEPT} for key in keys)


def test_a_read_merge_write_leaves_the_erased_actors_items_out(timeline):
    timeline.replay("home", items(6))
    timeline.erase_actor(GONE)
    shown = timeline.add("home", 99, 99, {"secret": 99})
    assert stored_actors(timeline, "home") == {KEPT, None}
    assert shown == [{"secret": 99}, {"secret": 4}, {"secret": 2}, {"secret": 0}]
    assert "secret\":1" not in b"".join(bytes(v) for v in timeline.backend.read("home").values).decode()


def test_a_late_change_of_an_erased_actors_item_writes_nothing(timeline):
    timeline.replay("home", [Entry(1, 1, 1, None, False, KEPT)])
    before = [bytes(v) for v in timeline.backend.read("home").values]
    timeline.erase_actor(GONE)
    assert timeline.replay("home", [Entry(2, 2, 9, {"secret": 2}, False, GONE)]) == [Entry(1, 1, 1, None, False, KEPT)]
    assert [bytes(v) for v in timeline.backend.read("home").values] == before
    timeline.replay("empty", [Entry(3, 3, 9, None, False, GONE)])
    assert timeline.backend.read("empty").values == []


def test_a_follows_copy_brings_no_erased_actors_items_into_the_target(timeline):
    timeline.replay("author", items(6))
    timeline.erase_actor(GONE)
    timeline.copy_items("author", "reader")
    assert stored_actors(timeline, "reader") == {KEPT}
    assert [e.id for e in timeline.get("reader", raw=True)] == [4, 2, 0]


def test_the_compaction_after_too_many_siblings_forgets_them(timeline):
    timeline.replay("home", items(4))
    timeline.erase_actor(GONE)
    timeline.backend.append("home", codecs.encode([Entry(7, 7, 7, None, False, GONE)]))
    timeline._compact("home")
    assert stored_actors(timeline, "home") == {KEPT}


def test_a_group_loses_the_erased_actors_membership_when_its_key_is_compacted(timeline):
    from django_timak import groups

    timeline.replay("feed", [Entry("g", 1, 1, groups.change("like:1", KEPT))])
    timeline.erase_actor(GONE)
    for clock in (2, 3):
        timeline.append_changes({"feed": [Entry("g", clock, clock, groups.change(f"like:{clock}", GONE))]})
    [value] = timeline.backend.read("feed").values
    [group] = codecs.decode(value)
    assert groups.actors(group) == [KEPT]


def test_a_riak_writer_trusts_the_record_it_last_read_for_known_for_seconds(riak_server, riak_url, riak_bucket, monkeypatch):
    from django_timak.backends.riak import RiakBackend

    if riak_server is None:
        pytest.skip("counts the test server's requests")
    writer = Timeline(RiakBackend(riak_url, bucket=riak_bucket), max_items=50)
    other = Timeline(RiakBackend(riak_url, bucket=riak_bucket), max_items=50)
    writer.replay("home", items(4))  # reads the record once
    writer.erase_actor(GONE)  # and knows of its own erasure
    riak_server.handled.clear()
    writer.add("home", 50, 50)
    assert not record_reads(riak_server)
    assert stored_actors(writer, "home") == {KEPT, None}

    other.erase_actor(KEPT)  # unknown to the writer: it keeps the items stored, every read hides them
    writer.add("home", 51, 51)
    assert KEPT in stored_actors(writer, "home") and writer.get("home") == [51, 50]
    monkeypatch.setattr(erasure_record, "KNOWN_FOR", 0.0)
    riak_server.handled.clear()
    writer.add("home", 52, 52)
    assert record_reads(riak_server) == [f"GET /types/timak/buckets/{riak_bucket}/keys/timak%3Aerased"]
    assert stored_actors(writer, "home") == {None}


def record_reads(server):
    return [r for r in server.handled if r.endswith("/keys/timak%3Aerased")]


def test_a_merged_pages_compaction_of_a_key_forgets_them(store):  # noqa: F811
    timeline = Timeline(store, max_items=50, compact_on_append=50, compact_on_read=2)
    timeline.replay("home", [Entry(100, 100, 1, None, False, KEPT)])
    timeline.append_changes({"author": items(3)})
    timeline.append_changes({"author": items(3, start=3, clock=2)})
    assert len(timeline.backend.read("author").values) == 2
    timeline.erase_actor(GONE)
    page = timeline.page("home", sources=["author"])
    assert [e.id for e in page.entries] == [100, 4, 2, 0]
    assert len(timeline.backend.read("author").values) == 1, "the page compacts the source it merged"
    assert stored_actors(timeline, "author") == {KEPT}
