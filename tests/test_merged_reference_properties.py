"""A page merged over sources= is the page of a reference merge built from whole lists.

``merged_entries`` asks per entry it reaches whether another key holds the id and
whether a delete hides it. The reference here instead lists every key's shown items
and deletes whole, resolves every id at once, sorts and cuts: the two must agree on
every page, cursor and order (the keys and reads of ``test_merged_partial_properties``).
"""

from unittest import mock

from hypothesis import given, settings

from django_timak import Timeline, codecs, entries as core
from django_timak.erasure_record import ERASURE_KEY, erased
from django_timak.exclusions import check_actors, filtered, keep
from django_timak.pagination import decode_bound, encode_cursor, page_at
from django_timak.entries import Entry
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
