"""Groups merge as a CRDT: the laws on random histories, and the rules case by case."""

from functools import reduce

import pytest
from hypothesis import given, settings, strategies as st

from django_timak import codecs, groups
from django_timak.entries import Entry, live, merge, tombstone

SHAPE = {"capacity": 50, "tombstones": 200, "order": "desc"}


def add(group_id, member_id, actor, score, clock, info=None):
    return Entry(group_id, score, clock, groups.change(member_id, actor, info))


def shown(value):
    """Return what a reader sees of a value: per live group, its actors and their count."""
    return [(e.id, e.score, groups.actors(e)) for e in live(value)]


@st.composite
def changes(draw):
    """Adds of rows to groups, removals of rows and of whole groups, each with its own clock, in any order."""
    count = draw(st.integers(min_value=1, max_value=25))
    found = []
    for clock in range(1, count + 1):
        member = draw(st.integers(min_value=0, max_value=7))
        kind = draw(st.integers(min_value=0, max_value=7))
        if kind == 0:
            found.append(tombstone(draw(st.sampled_from(["like:1", "follow:day"])), clock))  # a dismissed item
        elif kind < 3:
            found.append(tombstone(f"row:{member}", clock))
        else:
            group_id = draw(st.sampled_from(["like:1", "like:2", "follow:day"]))
            found.append(add(group_id, f"row:{member}", f"user:{draw(st.integers(0, 4))}", draw(st.integers(0, 5)), clock))
    return draw(st.permutations(found))


def values(entries, parts):
    """Split ``entries`` into ``parts`` values, each merged as one writer would store it."""
    return [merge(entries[i::parts], **SHAPE) for i in range(parts)]


group_laws = settings(max_examples=300, deadline=None)


@group_laws
@given(changes(), st.integers(min_value=1, max_value=4))
def test_merging_groups_is_commutative(entries, parts):
    split = values(entries, parts)
    assert merge(*split, **SHAPE) == merge(*reversed(split), **SHAPE)


@group_laws
@given(changes())
def test_merging_groups_is_associative(entries):
    a, b, c = values(entries, 3)
    assert merge(merge(a, b, **SHAPE), c, **SHAPE) == merge(a, merge(b, c, **SHAPE), **SHAPE)


@group_laws
@given(changes())
def test_merging_groups_is_idempotent(entries):
    value = merge(entries, **SHAPE)
    assert merge(value, value, **SHAPE) == value
    assert merge(value, **SHAPE) == value


@group_laws
@given(changes(), st.integers(min_value=1, max_value=4))
def test_any_split_of_the_changes_shows_the_same_groups(entries, parts):
    assert shown(merge(*values(entries, parts), **SHAPE)) == shown(merge(entries, **SHAPE))


@group_laws
@given(changes(), st.integers(min_value=0, max_value=7))
def test_a_removal_is_never_undone_by_an_older_add(entries, member):
    removed_at = max((e.clock for e in entries), default=0) + 1
    older = [add("like:1", f"row:{member}", "user:9", 3, clock) for clock in range(1, removed_at)]
    value = merge(entries, [tombstone(f"row:{member}", removed_at)], **SHAPE)
    for late in older:
        value = merge(value, [late], **SHAPE)
        assert all(f"row:{member}" not in [m.id for m in groups.live_members(e)] for e in live(value))


def test_the_same_actor_twice_counts_once():
    value = merge([add("like:1", "like:1", "user:ann", 10, 1), add("like:1", "like:2", "user:ann", 11, 2)], **SHAPE)
    assert groups.actors(value[0]) == ["user:ann"]


def test_adding_the_same_row_twice_changes_nothing():
    once = merge([add("like:1", "like:1", "user:ann", 10, 1)], **SHAPE)
    assert merge(once, [add("like:1", "like:1", "user:ann", 10, 1)], **SHAPE) == once


def test_an_unlike_removes_the_actor_it_brought_and_keeps_the_others():
    value = merge([add("like:1", "like:1", "user:ann", 10, 1), add("like:1", "like:2", "user:bob", 11, 2)], **SHAPE)
    value = merge(value, [tombstone("like:2", 3)], **SHAPE)
    assert groups.actors(value[0]) == ["user:ann"]
    assert value[0].score == 10


def test_a_group_whose_last_row_is_removed_is_hidden_and_remembers_the_removal():
    value = merge([add("like:1", "like:1", "user:ann", 10, 1)], [tombstone("like:1", 2)], **SHAPE)
    assert live(value) == []
    stored = codecs.decode(codecs.encode(value))
    assert merge(stored, [add("like:1", "like:1", "user:ann", 10, 1)], **SHAPE) == stored


def test_concurrent_adds_from_two_writers_are_both_kept():
    base = merge([add("like:1", "like:1", "user:ann", 10, 1)], **SHAPE)
    writer_a = merge(base, [add("like:1", "like:2", "user:bob", 12, 3)], **SHAPE)
    writer_b = merge(base, [add("like:1", "like:3", "user:cat", 11, 2)], **SHAPE)
    merged = merge(writer_a, writer_b, **SHAPE)
    assert groups.actors(merged[0]) == ["user:bob", "user:cat", "user:ann"]
    assert merged[0].score == 12


def test_a_row_that_moves_to_another_group_leaves_the_first():
    value = merge([add("like:1", "like:7", "user:ann", 10, 1)], [add("like:2", "like:7", "user:ann", 10, 2)], **SHAPE)
    assert [(e.id, groups.actors(e)) for e in live(value)] == [("like:2", ["user:ann"])]


def test_a_tombstone_of_the_group_id_removes_the_members_it_is_newer_than():
    value = merge([add("like:1", "like:1", "user:ann", 10, 1)], [tombstone("like:1", 2)], **SHAPE)
    assert live(value) == []
    value = merge(value, [add("like:1", "like:2", "user:bob", 12, 3)], **SHAPE)
    assert groups.actors(live(value)[0]) == ["user:bob"]


def test_live_members_past_the_bound_fall_off_oldest_first(monkeypatch):
    monkeypatch.setattr(groups, "MAX_MEMBERS", 2)
    value = merge([add("like:1", f"like:{n}", f"user:{n}", n, n) for n in range(1, 5)], **SHAPE)
    assert groups.actors(value[0]) == ["user:4", "user:3"]


def test_groups_survive_the_codec_live_and_removed():
    value = merge(
        [add("like:1", "like:1", "user:ann", 10, 1, {"target": "post:1"}), add("like:2", "like:2", "user:bob", 9, 2)],
        [tombstone("like:2", 3)],
        **SHAPE,
    )
    assert codecs.decode(codecs.encode(value)) == value
    assert groups.info(value[0]) == {"target": "post:1"}


@pytest.mark.parametrize("parts", [2, 3])
def test_a_group_built_in_pieces_equals_one_built_at_once(parts):
    entries = [add("like:1", f"like:{n}", f"user:{n % 3}", n, n) for n in range(1, 10)]
    assert reduce(lambda a, b: merge(a, b, **SHAPE), values(entries, parts)) == merge(entries, **SHAPE)
