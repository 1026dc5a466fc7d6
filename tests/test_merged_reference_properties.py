"""A page merged over sources= is the page of a reference merge built from whole lists.

``merged_entries`` asks per entry it reaches whether another key holds the id and
whether a delete hides it. The reference here instead lists every key's shown items
and deletes whole, resolves every id at once, sorts and cuts: the two must agree on
every page, cursor and order (the keys and reads of ``test_merged_partial_properties``).
"""

from unittest import mock

from hypothesis import given, settings, strategies as st

from django_timak import Timeline, codecs, entries as core, groups
from django_timak.backends.memory import MemoryBackend
from django_timak.erasure_record import ERASURE_KEY, erased
from django_timak.exclusions import check_actors, filtered, keep
from django_timak.pagination import decode_bound, encode_cursor, page_at
from django_timak.entries import Entry
from tests.test_groups import changes as group_changes
from tests.test_merged_partial_properties import MAX_ITEMS, keys_and_reads, store


def stored_of(timeline, key, home):
    """Return a key's entries as the merge reads them: one value as stored, anything else merged."""
    versioned = timeline.backend.read(key)
    if len(versioned.values) == 1:
        value = codecs.decode(bytes(versioned.values[0]))
        if not home or len(core.live(value)) <= timeline.capacity:
            return value
    return timeline._merged(versioned)


def reference(timeline, keys):
    """Return the merged visible entries of ``keys``, top first, computed over whole lists."""
    shown, deletes = [], []
    for n, key in enumerate(keys):
        stored = stored_of(timeline, key, n == 0)
        live = core.live(stored)
        shown.append(live[:MAX_ITEMS])
        deletes.append([e for e in stored[len(live):] if not core.is_detached(e)])
    visible = []
    for id_ in {e.id for entries in shown for e in entries}:
        winner = core.resolve(*([e for e in entries if e.id == id_] for entries in shown))[id_]
        if winner.deleted:
            continue  # a group whose versions' members were all removed, joined
        tomb = None
        for entry in (e for entries in deletes for e in entries if e.id == id_):
            if tomb is None or core.wins(entry, tomb):
                tomb = entry
        if tomb is None or not core.wins(tomb, winner):
            visible.append(winner)
    visible.sort(key=core.position, reverse=timeline.order == "desc")
    gone = erased(tuple(bytes(v) for v in timeline.backend.read(ERASURE_KEY).values))
    return [e for e in (keep(e, gone) if gone else e for e in visible[:MAX_ITEMS]) if e is not None]


def stored(keys, read) -> Timeline:
    """Return the timeline over the keys drawn, with the drawn actor erased."""
    with mock.patch.object(codecs, "BLOCK_SIZE", 3):
        timeline = Timeline(store(keys, read["order"]), max_items=MAX_ITEMS, order=read["order"], compact_on_read=100)
    if read["erase"]:
        timeline.erase_actor(read["erase"])
    return timeline


@settings(max_examples=300, deadline=None)
@given(keys_and_reads())
def test_a_merged_page_is_the_page_of_the_reference_merge(case):
    keys, read = case
    if len(keys) == 1:
        return  # one key is paged by codecs.iter_live, not merged
    timeline, names = stored(keys, read), [f"k{n}" for n in range(len(keys))]
    cursor = read["cursor"] and encode_cursor(Entry(read["cursor"][1], read["cursor"][0], 0), read["cursor"][2])
    page = timeline.page("k0", limit=read["limit"], cursor=cursor, sources=names[1:], exclude_actors=read["exclude"])
    expected = filtered(reference(timeline, names), check_actors(read["exclude"]))
    bound = decode_bound(cursor) if cursor else None
    assert (page.entries, page.next_cursor, page.previous_cursor) == page_at(expected, bound, read["limit"], read["order"])


@st.composite
def group_keys(draw):
    """Two to four keys holding groups (likes of rows) and plain items, some ids in several keys."""
    keys = []
    for _ in range(draw(st.integers(2, 4))):
        changes = list(draw(group_changes()))
        changes += [Entry(id_, draw(st.integers(0, 5)), draw(st.integers(1, 30)), None) for id_ in draw(st.sets(st.integers(0, 5)))]
        keys.append(changes)
    return keys, draw(st.sampled_from(["desc", "asc"])), draw(st.integers(1, 8))


@settings(max_examples=300, deadline=None)
@given(group_keys())
def test_a_group_held_by_several_keys_shows_joined_where_its_score_falls(case):
    keys, order, limit = case
    backend = MemoryBackend()
    for n, changes in enumerate(keys):
        backend.write(f"k{n}", codecs.encode(core.merge(changes, capacity=MAX_ITEMS, tombstones=50, order=order)), None)
    timeline, names = Timeline(backend, max_items=MAX_ITEMS, order=order, compact_on_read=100), [f"k{n}" for n in range(len(keys))]
    page = timeline.page("k0", limit=limit, sources=names[1:])
    assert (page.entries, page.next_cursor, page.previous_cursor) == page_at(reference(timeline, names), None, limit, order)


def test_a_group_in_the_home_and_a_source_shows_once_with_both_members():
    backend = MemoryBackend()
    timeline = Timeline(backend, max_items=MAX_ITEMS)
    like = "like:1"
    timeline.append_changes({"home": [Entry(like, 5, 1, groups.change("row:1", "u:ann"))]})
    timeline.append_changes({"source": [Entry(like, 7, 2, groups.change("row:2", "u:bob"))]})
    timeline.get("home"), timeline.get("source")  # one value each
    (shown,) = timeline.page("home", sources=["source"]).entries
    assert (shown.id, shown.score, sorted(groups.actors(shown))) == (like, 7, ["u:ann", "u:bob"])


def test_an_oldest_first_page_places_a_joined_group_below_all_its_versions():
    """Each key removed a member the other shows: joined, the group keeps only its lowest member."""
    def like(member, score, clock):
        return Entry("like:1", score, clock, groups.change(member, f"u:{member}"))

    backend = MemoryBackend()
    home = [like("row:1", 10, 1), like("row:2", 2, 2), like("row:3", 9, 3), core.tombstone("row:3", 5), Entry(100, 1, 1), Entry(101, 5, 1)]
    source = [like("row:3", 9, 3), like("row:1", 10, 1), core.tombstone("row:1", 6)]
    for key, changes in (("home", home), ("source", source)):
        backend.write(key, codecs.encode(core.merge(changes, capacity=MAX_ITEMS, tombstones=50, order="asc")), None)
    timeline = Timeline(backend, max_items=MAX_ITEMS, order="asc")
    assert [e.score for e in timeline.page("source").entries] == [9], "the source's version is above the joined group"
    shown = timeline.page("home", sources=["source"]).entries
    assert [(e.id, e.score) for e in shown] == [(100, 1), ("like:1", 2), (101, 5)]
    assert groups.actors(shown[1]) == ["u:row:2"]
