"""A page merged over sources= read in part (block by block) is the page read from whole decodes.

The reference reads every key as the merge always did, decoded whole (``WholeView``);
the subject walks version 2 values' blocks lazily (``BlockView``). Blocks of 3 make
every key span many blocks; ids shared across keys at other scores and clocks, deletes
and detachments in any key, siblings, version 1 values, exclusions, erased actors, any
cursor side and any limit must give the same items, cursors and order.
"""

from unittest import mock

from hypothesis import given, settings, strategies as st

from django_timak import Timeline, codecs, pages
from django_timak.backends.memory import MemoryBackend
from django_timak.entries import Entry, merge, tombstone
from django_timak.key_views import BlockView, WholeView, source_view
from django_timak.pagination import AFTER, BEFORE, FROM, UP_TO, encode_cursor
from tests.test_layout_v2 import encode_v1

ACTORS = ["u:0", "u:1", 2, None]
MAX_ITEMS = 12


def whole(value, max_items):
    return WholeView(codecs.decode(value), max_items)


@st.composite
def keys_and_reads(draw):
    keys = []
    for _ in range(draw(st.integers(1, 4))):
        changes = []
        for id_ in draw(st.lists(st.integers(0, 30), unique=True, max_size=20)):
            clock = draw(st.integers(1, 6))
            kind = draw(st.sampled_from(["live", "live", "live", "deleted", "detached"]))
            if kind == "live":
                changes.append(Entry(id_, draw(st.integers(0, 8)), clock, None, False, draw(st.sampled_from(ACTORS))))
            else:
                changes.append(tombstone(id_, clock, draw(st.integers(0, 8)), detached=kind == "detached"))
        keys.append((changes, draw(st.sampled_from(["v2", "v2", "v1", "siblings"]))))
    read = {
        "limit": draw(st.integers(1, 8)),
        "exclude": draw(st.sets(st.sampled_from(["u:0", 2, "u:absent"]))),
        "erase": draw(st.sampled_from([None, "u:1"])),
        "cursor": draw(st.one_of(st.none(), st.tuples(st.integers(0, 8), st.integers(0, 30),
                                                        st.sampled_from([AFTER, FROM, BEFORE, UP_TO])))),
        "order": draw(st.sampled_from(["desc", "asc"])),
    }
    return keys, read


def store(keys, order):
    """Return a memory store holding each key's changes as a normalised value (or two, or a v1 one)."""
    backend = MemoryBackend(allow_mult=True)
    for n, (changes, form) in enumerate(keys):
        key = f"k{n}"
        if form == "siblings":
            half = len(changes) // 2
            for part in (changes[:half], changes[half:]):
                backend.append(key, codecs.encode(merge(part, capacity=MAX_ITEMS, tombstones=50, order=order)))
            continue
        value = merge(changes, capacity=MAX_ITEMS, tombstones=50, order=order)
        backend.write(key, encode_v1(value) if form == "v1" else codecs.encode(value), None)
    return backend


def read_page(timeline, keys, read, views):
    source_view.cache_clear()
    cursor = read["cursor"]
    if cursor is not None:
        score, id_, relation = cursor
        cursor = encode_cursor(Entry(id_, score, 0), relation)
    with mock.patch.object(pages, "open_view", views), mock.patch.object(pages, "source_view", views):
        page = timeline.page("k0", limit=read["limit"], cursor=cursor, sources=[f"k{n}" for n in range(1, len(keys))],
                             exclude_actors=read["exclude"])
    return page.entries, page.next_cursor, page.previous_cursor


@settings(max_examples=300, deadline=None)
@given(keys_and_reads())
def test_a_merged_page_read_in_part_is_the_page_of_whole_decodes(case):
    keys, read = case
    with mock.patch.object(codecs, "BLOCK_SIZE", 3):
        backend = store(keys, read["order"])
    timeline = Timeline(backend, max_items=MAX_ITEMS, order=read["order"], compact_on_read=100)
    if read["erase"]:
        timeline.erase_actor(read["erase"])
    opened = []

    def partial(value, max_items):
        view = codecs_view(value, max_items)
        opened.append(view)
        return view

    codecs_view = pages.open_view
    expected = read_page(timeline, keys, read, whole)
    assert read_page(timeline, keys, read, partial) == expected
    several_blocks = [form == "v2" and len({c.id for c in changes if not c.deleted}) > 3 for changes, form in keys]
    if len(keys) > 1:  # one key is paged by codecs.iter_live, not merged
        assert sum(isinstance(view, BlockView) for view in opened) == sum(several_blocks)
