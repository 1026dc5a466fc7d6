"""Timeline semantics on the memory backend, including the mended flaws of timak."""

import os
import time
from datetime import date, datetime, timedelta, timezone

import pytest

from django_timak import Timeline, codecs
from django_timak.backends.memory import MemoryBackend
from django_timak.clock import HybridClock
from django_timak.entries import Entry, tombstone
from django_timak.exceptions import (
    InvalidCursor,
    InvalidData,
    InvalidKey,
    InvalidScore,
    InvalidTimelineInput,
    ValueTooLarge,
)


@pytest.fixture
def tl(memory_backend):
    return Timeline(backend=memory_backend, max_items=3)


def test_items_are_unique_by_id_and_ordered_by_score(tl):
    tl.add("k", "a", 1)
    tl.add("k", "b", 3)
    assert tl.add("k", "a", 5) == ["a", "b"]


def test_ascending_order():
    tl = Timeline(MemoryBackend(), max_items=2, order="asc")
    for i in (3, 1, 2):
        tl.add("k", i, i)
    assert tl.get("k") == [1, 2]


def test_raw_returns_entries(tl):
    tl.add("k", 1, 10, obj_data={"x": 1})
    [entry] = tl.get("k", raw=True)
    assert (entry.id, entry.score, entry.data, entry.deleted) == (1, 10, {"x": 1}, False)


@pytest.mark.parametrize("falsy", [0, "", {}, [], False, 0.0])
def test_falsy_obj_data_is_returned_not_the_id(tl, falsy):
    """timak returned the id whenever obj_data was falsy."""
    assert tl.add("k", 1, 1, obj_data=falsy) == [falsy]


def test_a_delete_frees_its_slot(tl):
    """timak's tombstones counted toward max_items: each delete shrank the timeline."""
    for i in range(1, 4):
        tl.add("k", i, i)
    assert tl.delete("k", 3, 3) == [2, 1]
    assert tl.add("k", 4, 4) == [4, 2, 1]
    assert tl.add("k", 5, 5) == [5, 4, 2]


def test_equal_scores_break_ties_by_id(tl):
    """timak sorted by score alone, so equal scores came back in any order."""
    for uniq_id in ("b", "c", "a"):
        tl.add("k", uniq_id, 7)
    assert tl.get("k") == ["c", "b", "a"]


def test_naive_datetimes_are_read_as_utc_whatever_the_local_time_zone(tl, monkeypatch):
    """timak used strftime("%s"), which reads a naive datetime as local time."""
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        tl.add("k", 1, datetime(2011, 1, 1), raw=True)
        [entry] = tl.get("k", raw=True)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert entry.score == 1293840000000
    aware = datetime(2011, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert tl.add("k", 1, aware, raw=True)[0].score == 1293840000000
    assert tl.add("k", 1, date(2011, 1, 1), raw=True)[0].score == 1293840000000


def test_a_delete_wins_over_an_add_from_a_writer_whose_clock_runs_ahead():
    """timak compared writers' wall clocks: a writer an hour ahead beat a later delete."""
    backend = MemoryBackend()
    ahead = Timeline(backend, clock=HybridClock(lambda: int(time.time() * 1000) + 3_600_000))
    behind = Timeline(backend, clock=HybridClock(lambda: int(time.time() * 1000)))
    ahead.add("k", 1, 1)
    assert behind.delete("k", 1) == []
    assert ahead.get("k") == []


def test_a_stale_sibling_cannot_bring_a_deleted_item_back():
    """timak dropped tombstones that fell off the end; a stale sibling then revived the item."""
    backend = MemoryBackend(allow_mult=True)
    tl = Timeline(backend, max_items=2, margin=2)
    tl.add("k", "old", 1)
    stale = backend.read("k")
    tl.delete("k", "old", 1)
    for i in range(2, 6):
        tl.add("k", i, i)
    backend.write("k", stale.values[0], stale.token)  # a writer that never saw the delete
    assert len(backend.read("k").values) == 2
    assert tl.get("k") == [5, 4]
    tl.delete("k", 5)
    tl.delete("k", 4)
    assert tl.get("k") == [3, 2]


def test_siblings_merge_on_read_and_are_written_back_once_they_reach_compact_on_read():
    backend = MemoryBackend(allow_mult=True)
    tl = Timeline(backend, max_items=10, compact_on_read=3)
    tl.add("k", 1, 1)
    base = backend.read("k")
    other = Timeline(MemoryBackend(), max_items=10)
    other.add("k", 2, 2)
    sibling = other.backend.read("k").values[0]
    backend.write("k", sibling, None)
    assert tl.get("k") == [2, 1]
    assert len(backend.read("k").values) == 2
    backend.write("k", sibling, None)
    assert len(backend.read("k").values) == 3
    assert base.token < backend.read("k").token
    assert tl.get("k") == [2, 1]
    assert len(backend.read("k").values) == 1


def test_writers_retry_on_conflict():
    backend = MemoryBackend()
    tl = Timeline(backend)
    real_write = backend.write
    calls = []

    def interfering_write(key, value, token):
        if not calls:
            calls.append(1)
            Timeline(backend).add(key, "other", 1)
        real_write(key, value, token)

    backend.write = interfering_write
    assert tl.add("k", "mine", 2) == ["mine", "other"]


def test_an_unchanged_add_writes_nothing(tl, memory_backend):
    tl.add("k", 1, 1, obj_data={"a": 1})
    token = memory_backend.read("k").token
    tl.add("k", 1, 1, obj_data={"a": 1})
    assert memory_backend.read("k").token == token
    tl.add("k", 1, 1, obj_data={"a": 2})
    assert memory_backend.read("k").token != token


def test_clear(tl, memory_backend):
    tl.add("k", 1, 1)
    tl.clear("k")
    assert tl.get("k") == [] and memory_backend.keys() == []


def test_copy_and_remove_items(memory_backend):
    tl = Timeline(memory_backend, max_items=10)
    for i in range(5):
        tl.add("alice:posts", f"p{i}", i)
    tl.add("bob:home", "b1", 10)
    tl.copy_items("alice:posts", "bob:home", limit=3)
    assert tl.get("bob:home") == ["b1", "p4", "p3", "p2"]
    tl.remove_items("alice:posts", "bob:home")
    assert tl.get("bob:home") == ["b1"]


def test_explicit_modified_orders_operations():
    tl = Timeline(MemoryBackend())
    tl.delete("k", 1, modified=200)
    tl.add("k", 1, 1, modified=100)  # a retried older add
    assert tl.get("k") == []
    tl.add("k", 1, 1, modified=300)
    assert tl.get("k") == [1]


class TestBadInput:
    @pytest.mark.parametrize("key", ["", "a" * 256, "a\nb", "a\x00", None, 5, b"k"])
    def test_keys(self, tl, key):
        with pytest.raises(InvalidKey):
            tl.add(key, 1, 1)

    @pytest.mark.parametrize("score", ["2011-01-01", None, True, float("nan"), float("inf"), [1]])
    def test_scores(self, tl, score):
        with pytest.raises(InvalidScore):
            tl.add("k", 1, score)

    @pytest.mark.parametrize("data", [object(), {"s": {1, 2}}, float("nan"), b"bytes"])
    def test_data(self, tl, data):
        with pytest.raises(InvalidData):
            tl.add("k", 1, 1, obj_data=data)

    @pytest.mark.parametrize("uniq_id", [None, 1.5, True, "", "x" * 256, ("a",)])
    def test_ids(self, tl, uniq_id):
        with pytest.raises(InvalidTimelineInput):
            tl.add("k", uniq_id, 1)

    @pytest.mark.parametrize("kwargs", [{"max_items": 0}, {"max_items": -1}, {"max_items": "3"}, {"order": "up"}, {"compress": "lz4"}, {"margin": -1}])
    def test_timeline_arguments(self, kwargs):
        with pytest.raises(InvalidTimelineInput):
            Timeline(MemoryBackend(), **kwargs)

    def test_a_timeline_needs_a_backend(self):
        with pytest.raises(TypeError):
            Timeline(max_items=3)

    def test_nothing_is_written_when_one_item_of_a_batch_is_bad(self, tl, memory_backend):
        with pytest.raises(InvalidData):
            tl.add_many("k", [(1, 1, None), (2, 2, object())])
        assert memory_backend.keys() == []

    def test_value_too_large(self, memory_backend):
        tl = Timeline(memory_backend, max_value_bytes=200)
        tl.add("k", 1, 1)
        with pytest.raises(ValueTooLarge, match="MAX_VALUE_BYTES=200"):
            tl.add("k", 2, 2, obj_data={"body": "x" * 300})
        assert tl.get("k") == [1]

    @pytest.mark.parametrize("limit", [0, -1, "20", None])
    def test_page_limit(self, tl, limit):
        with pytest.raises(InvalidTimelineInput):
            tl.page("k", limit=limit)

    @pytest.mark.parametrize("cursor", ["", "garbage", "!!!", "a" * 2000, 5])
    def test_cursors(self, tl, cursor):
        with pytest.raises(InvalidCursor):
            tl.page("k", cursor=cursor)


def test_apply_merges_changes_with_their_own_clocks_in_one_write():
    backend = MemoryBackend()
    tl = Timeline(backend)
    from django_timak.entries import Entry

    stored = tl.apply("k", [Entry("a", 1, 10), Entry("b", 2, 11), Entry("a", 0, 12, None, True), Entry("b", 2, 9, None, True)])
    assert [e.id for e in stored if not e.deleted] == ["b"]
    tl.apply("k", [Entry("a", 1, 10)])  # replayed, older than the delete
    assert tl.get("k") == ["b"]
    token = backend.read("k").token
    with pytest.raises(InvalidTimelineInput):
        tl.apply("k", [Entry("c", 1, 0)])
    with pytest.raises(InvalidScore):
        tl.apply("k", [Entry("c", "x", 5)])
    assert backend.read("k").token == token


def test_the_store_s_value_limit_applies_unless_the_timeline_sets_its_own():
    backend = MemoryBackend()
    backend.max_value_bytes = 100
    assert Timeline(backend).max_value_bytes == 100
    assert Timeline(backend, max_value_bytes=5000).max_value_bytes == 5000
    with pytest.raises(ValueTooLarge):
        Timeline(backend).add("k", 1, 1, obj_data="x" * 200)


def test_adding_items_that_fall_straight_off_the_end_writes_nothing(tl, memory_backend):
    for i in range(5, 8):
        tl.add("k", i, i)
    token = memory_backend.read("k").token
    assert tl.add("k", 1, 1) == [7, 6, 5]
    assert memory_backend.read("k").token == token


@pytest.mark.parametrize(
    "first, again, older",
    [
        (Entry(1, 0, 18, {"n": 1}), Entry(1, 0, 26, {"n": 1}), Entry(1, 0, 24, None)),
        (tombstone(1, 18), tombstone(1, 26), Entry(1, 0, 24, None)),
    ],
)
def test_a_change_already_shown_keeps_its_newer_clock_against_an_older_concurrent_write(first, again, older):
    """The same content stamped later is written: a write that read before it and holds an older change loses."""
    backend = MemoryBackend(allow_mult=True)
    tl = Timeline(backend)
    tl.replay("k", [first])
    held = backend.read("k")
    tl.replay("k", [again])
    backend.write("k", codecs.encode([older]), held.token)
    assert tl.get("k", raw=True) == ([] if again.deleted else [again])
