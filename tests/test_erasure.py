"""Erasure of an actor: one small record every read honours, then physical removal key by key.

After ``erase_actor`` no read shows the actor's items (``get``, pages, merged pages,
notification counts), their group memberships leave the counts, the record joins
as a CRDT across concurrent writers and siblings, and ``purge_actors`` rewrites a
value without their data.
"""

import itertools

import pytest
from hypothesis import given, settings, strategies as st

from django_timak import Timeline, codecs, erasure_record as record
from django_timak.backends.memory import MemoryBackend
from django_timak.entries import Entry
from django_timak.exceptions import InvalidTimelineInput
from tests.test_append import DATABASES, build

STORES = ["memory", "siblings", *DATABASES]


@pytest.fixture(params=STORES)
def timeline(request):
    return Timeline(build(request.param), max_items=100)


def items(count, actor_of):
    return [Entry(i, i, 1, None, False, actor_of(i)) for i in range(count)]


def test_an_erased_actor_is_off_get_page_and_merged_pages_at_once(timeline):
    timeline.replay("home", items(30, lambda i: "u:gone" if i % 3 == 0 else "u:kept"))
    timeline.replay("src", [Entry("s", 50, 1, None, False, "u:gone")])
    timeline.erase_actor("u:gone")
    kept = [i for i in range(29, -1, -1) if i % 3]
    assert timeline.get("home") == kept
    assert timeline.page("home", 5).items == kept[:5]
    assert timeline.page("home", 100, sources=["src"]).items == kept
    assert timeline.erased_actors() == {"u:gone"}


def test_group_members_of_an_erased_actor_leave_the_group_and_its_count():
    from django_timak import groups

    timeline = Timeline(MemoryBackend(), max_items=10)
    timeline.replay("feed", [Entry("g", 1, 1, groups.change("like:1", "u:a")), Entry("g", 2, 2, groups.change("like:2", "u:b"))])
    timeline.replay("feed", [Entry("h", 3, 3, groups.change("like:3", "u:b"))])
    timeline.erase_actor("u:b")
    [group] = timeline.get("feed", raw=True)
    assert group.id == "g" and groups.actors(group) == ["u:a"]


def test_erasures_from_concurrent_writers_and_siblings_all_count():
    backend = MemoryBackend(allow_mult=True)
    one, two = Timeline(backend, compact_on_append=2), Timeline(backend, compact_on_append=2)
    for n in range(5):
        one.erase_actor(f"u:{n}")
        two.erase_actor(n)
    assert one.erased_actors() == two.erased_actors() == {*(f"u:{n}" for n in range(5)), *range(5)}


@pytest.mark.parametrize("bad", ["", None, 1.5, True, ["u:1"], {"u": 1}])
def test_erasing_something_that_is_not_an_actor_is_refused_and_writes_nothing(bad):
    timeline = Timeline(MemoryBackend())
    if bad == "":
        timeline.erase_actor(bad)  # an empty ref is still a str: erasing it is harmless
        return
    with pytest.raises(InvalidTimelineInput):
        timeline.erase_actor(bad)
    assert timeline.backend.read(record.ERASURE_KEY).values == []


def test_purging_rewrites_the_value_without_the_actors_data(timeline):
    timeline.replay("home", [Entry(i, i, 1, {"secret": i}, False, "u:gone" if i < 5 else "u:kept") for i in range(10)])
    timeline.erase_actor("u:gone")
    assert timeline.purge_actors("home", {"u:gone"}) is True
    [value] = timeline.backend.read("home").values
    assert "u:gone" not in bytes(value).decode(errors="replace")
    assert [e.id for e in codecs.decode(value)] == [9, 8, 7, 6, 5]
    assert timeline.purge_actors("home", {"u:gone"}) is False
    assert timeline.purge_actors("missing", {"u:gone"}) is False


def test_a_late_write_of_an_erased_actors_item_stays_hidden(timeline):
    timeline.erase_actor("u:gone")
    timeline.replay("home", items(3, lambda i: "u:gone"))
    assert timeline.get("home") == [] and timeline.page("home").items == []


records = st.dictionaries(st.one_of(st.integers(0, 5), st.sampled_from(["a", "b", "c"])), st.integers(0, 9), max_size=5)


@settings(max_examples=200, deadline=None)
@given(a=records, b=records, c=records)
def test_the_record_joins_as_a_crdt_and_round_trips(a, b, c):
    j = record.join
    assert j(a, b) == j(b, a) and j(j(a, b), c) == j(a, j(b, c)) and j(a, a) == a
    assert record.decode(record.encode(j(a, b))) == j(a, b)


@settings(max_examples=30, deadline=None)
@given(
    steps=st.lists(st.tuples(st.sampled_from(["erase", "append", "compact", "read"]), st.integers(0, 3)), max_size=20),
    store=st.sampled_from(["memory", "siblings"]),
)
def test_erasures_survive_appends_and_compaction_in_any_interleaving(steps, store):
    timeline = Timeline(build(store), max_items=20, compact_on_append=2, compact_on_read=2)
    erased = set()
    clock = itertools.count(1)
    for action, n in steps:
        if action == "erase":
            timeline.erase_actor(f"u:{n}")
            erased.add(f"u:{n}")
        elif action == "append":
            timeline.append_changes({"k": [Entry(next(clock), n, next(clock), None, False, f"u:{n}")]})
        elif action == "compact":
            timeline._compact("k")
        else:
            timeline.get("k")
        assert timeline.erased_actors() == erased
        assert all(e.actor not in erased for e in timeline.get("k", raw=True))


def test_the_async_forms_erase_and_read_the_record_as_the_sync_ones_do():
    import asyncio

    timeline = Timeline(MemoryBackend(), max_items=10)
    timeline.replay("k", items(4, lambda i: "u:gone" if i % 2 else "u:kept"))

    async def scenario():
        await timeline.aerase_actor("u:gone")
        return await timeline.aerased_actors(), await timeline.apage("k"), await timeline.apurge_actors("k", {"u:gone"})

    erased, page, purged = asyncio.run(scenario())
    assert erased == {"u:gone"} and page.items == [2, 0] and purged is True


def test_a_read_that_compacts_a_key_writes_it_back_without_the_erased_actors_items(timeline):
    timeline.compact_on_read = 2
    timeline.replay("k", items(4, lambda i: "u:gone" if i % 2 else "u:kept"))
    timeline.erase_actor("u:gone")
    timeline.append_changes({"k": [Entry(9, 9, 5, None, False, "u:kept")]})
    assert timeline.get("k") == [9, 2, 0]
    [value] = timeline.backend.read("k").values
    assert [e.id for e in codecs.decode(value)] == [9, 2, 0]


def test_a_page_that_compacts_a_key_writes_it_back_without_the_erased_actors_items(timeline):
    timeline.compact_on_read = 2
    timeline.replay("k", items(4, lambda i: "u:gone" if i % 2 else "u:kept"))
    timeline.erase_actor("u:gone")
    timeline.append_changes({"k": [Entry(9, 9, 5, None, False, "u:kept")]})
    assert timeline.page("k").items == [9, 2, 0]
    assert [e.id for e in codecs.decode(timeline.backend.read("k").values[0])] == [9, 2, 0]
