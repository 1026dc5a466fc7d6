"""A purge leaves a value undecoded only when it certainly holds none of the erased actors' items.

``erasure_record.may_hold`` answers False from a version 2 value's head and its
blocks' JSON; a False must mean that a whole decode would find nothing to remove,
for any actors (refs with quotes or non-ASCII, ints), groups, tombstones and blocks.
"""

from unittest import mock

from hypothesis import example, given, settings, strategies as st

from django_timak import Timeline, codecs, groups
from django_timak.backends.memory import MemoryBackend
from django_timak.entries import Entry, merge, tombstone
from django_timak.erasure_record import may_hold, without_actors
from tests.test_layout_v2 import encode_v1

ACTORS = ["u:a", "u:b", 'u:"q"', "u:é", 7, 70]


@st.composite
def values(draw):
    # Items and groups draw their actors from pools of their own, so that an actor may be in groups only.
    items, members = (st.sampled_from(draw(st.lists(st.sampled_from(ACTORS), min_size=1))) for _ in range(2))
    entries = []
    for id_ in draw(st.lists(st.integers(0, 60), unique=True, max_size=40)):
        kind = draw(st.sampled_from(["item", "item", "group", "deleted"]))
        clock, score = draw(st.integers(1, 5)), draw(st.integers(0, 100))
        if kind == "deleted":
            entries.append(tombstone(id_, clock, score))
        elif kind == "group":
            entries.append(Entry(f"g:{id_}", score, clock, groups.change(f"m:{id_}", draw(members))))
        else:
            entries.append(Entry(id_, score, clock, draw(st.sampled_from([None, {"t": 70}])), False,
                                 draw(st.one_of(st.none(), items))))
    return merge(entries, capacity=100, tombstones=50)


def grouped(actor):
    return merge([Entry("g:1", 1, 1, groups.change("m:1", actor)), Entry(2, 2, 1, None, False, "u:a")], capacity=100, tombstones=5)


@settings(max_examples=400, deadline=None)
@example(grouped("u:é"), {"u:é"}, 32)
@example(grouped('u:"q"'), {'u:"q"'}, 32)
@example(grouped(7), {7}, 32)
@given(values(), st.sets(st.sampled_from([*ACTORS, "u:absent", 8]), min_size=1, max_size=3), st.integers(2, 40))
def test_a_value_said_not_to_hold_the_actors_loses_nothing_to_a_purge(value, removed, block_size):
    removed = frozenset(removed)
    with mock.patch.object(codecs, "BLOCK_SIZE", block_size):
        stored = codecs.encode(value, compress="zlib")
    if not may_hold(stored, removed):
        assert without_actors(codecs.decode(stored), removed) == codecs.decode(stored)


def test_the_head_and_the_blocks_tell_which_values_hold_an_actor():
    others = [Entry(i, i, 1, {"text": "u:a"}, False, "u:b") for i in range(100)]
    assert not may_hold(codecs.encode(others), frozenset({"u:a"}))
    assert may_hold(codecs.encode([Entry(500, 500, 1, None, False, "u:a"), *others]), frozenset({"u:a"}))
    grouped = [Entry("g", 200, 1, groups.change("like:1", "u:a")), *others]
    assert may_hold(codecs.encode(grouped), frozenset({"u:a"}))
    assert not may_hold(codecs.encode(grouped), frozenset({"u:c"}))
    assert may_hold(codecs.encode(grouped), frozenset({1}))  # the digits of a score: decode to know
    assert not may_hold(codecs.encode(grouped), frozenset({7777}))
    assert not may_hold(codecs.encode(others), frozenset({7}))
    assert not may_hold(codecs.encode([tombstone(1, 2, 1), *others]), frozenset({"u:a"}))
    assert may_hold(encode_v1(others), frozenset({"u:a"}))


def test_a_purge_rewrites_only_the_keys_that_hold_the_actor_and_compacts_siblings():
    backend = MemoryBackend(allow_mult=True)
    timeline = Timeline(backend, max_items=50)
    timeline.replay("holds", [Entry(i, i, 1, None, False, "u:gone" if i % 3 else "u:kept") for i in range(40)])
    timeline.replay("grouped", [Entry("g", 1, 1, groups.change("like:1", "u:gone")), Entry(2, 2, 1, None, False, "u:kept")])
    timeline.replay("clean", [Entry(i, i, 1, None, False, "u:kept") for i in range(40)])
    backend.append("siblings", codecs.encode([Entry(1, 1, 1, None, False, "u:kept")]))
    backend.append("siblings", codecs.encode([Entry(2, 2, 1, None, False, "u:kept")]))
    clean = backend.read("clean")
    assert timeline.purge_actors_many(["holds", "grouped", "clean", "siblings", "missing"], {"u:gone"}) == {"holds", "grouped"}
    assert backend.read("clean") == clean
    assert [len(backend.read(key).values) for key in ("holds", "grouped", "siblings")] == [1, 1, 1]
    assert {e.actor for e in timeline.get("holds", raw=True)} == {"u:kept"}
    assert [e.id for e in timeline.get("grouped", raw=True)] == [2]
