"""The merge is a state-based CRDT: property tests of its laws and invariants."""

from functools import reduce

import pytest
from hypothesis import given, settings, strategies as st

from django_timak.entries import Entry, live, merge, order_live, resolve, visible

MAX_ITEMS = 5


def shape(margin, tombstones):
    return {"capacity": MAX_ITEMS + margin, "tombstones": tombstones, "order": "desc"}


@st.composite
def histories(draw, max_deletes=None, fixed_scores=False):
    """Operations with increasing clocks, split across 1 to 5 siblings.

    Each sibling applies its own operations in clock order (as a writer would, one
    read-merge-write at a time); siblings never see one another's operations. With
    ``fixed_scores`` an id is always added with the same score, as fan-out does.
    """
    scores = draw(st.lists(st.integers(min_value=0, max_value=6), min_size=16, max_size=16))
    count = draw(st.integers(min_value=1, max_value=40))
    siblings = draw(st.integers(min_value=1, max_value=5))
    operations = []
    deletes = 0
    for modified in range(1, count + 1):
        uniq_id = draw(st.integers(min_value=0, max_value=15))
        delete = draw(st.booleans()) if max_deletes is None or deletes < max_deletes else False
        deletes += delete
        # Few distinct scores: many ties.
        score = scores[uniq_id] if fixed_scores else draw(st.integers(min_value=0, max_value=6))
        data = draw(st.sampled_from([None, 0, "", {}, {"n": uniq_id}]))
        entry = Entry(uniq_id, score, modified, None if delete else data, delete)
        operations.append((draw(st.integers(min_value=0, max_value=siblings - 1)), entry))
    return operations, siblings, deletes


def replay(operations, siblings, **shape_):
    values = [[] for _ in range(siblings)]
    for index, entry in operations:
        values[index] = merge(values[index], [entry], **shape_)
    return values


def ideal(operations):
    """The visible timeline had nothing ever been trimmed."""
    winners = resolve([entry for _, entry in operations])
    return order_live([e for e in winners.values() if not e.deleted])[:MAX_ITEMS]


def property_test(test):
    """Run a property test on 400 generated histories: seconds of its own, so marked slow."""
    return pytest.mark.slow(settings(max_examples=400, deadline=None)(test))


def merged_history(operations, siblings, shape_):
    """Return the merge of every sibling value a history left."""
    return merge(*replay(operations, siblings, **shape_), **shape_)


@property_test
@given(histories(), st.integers(min_value=0, max_value=5))
def test_merge_is_commutative(history, margin):
    operations, siblings, _ = history
    shape_ = shape(margin, 64)
    values = replay(operations, siblings, **shape_)
    for a in values:
        for b in values:
            assert merge(a, b, **shape_) == merge(b, a, **shape_)


@property_test
@given(histories(), st.integers(min_value=0, max_value=5))
def test_merge_is_idempotent(history, margin):
    operations, siblings, _ = history
    shape_ = shape(margin, 64)
    for value in replay(operations, siblings, **shape_):
        assert merge(value, **shape_) == value
        assert merge(value, value, **shape_) == value


@property_test
@given(histories(max_deletes=4, fixed_scores=True), st.data())
def test_merge_is_associative_on_the_visible_timeline_within_the_margin(history, data):
    operations, siblings, deletes = history
    shape_ = shape(deletes, 64)
    values = replay(operations, siblings, **shape_)
    order = data.draw(st.permutations(values))
    left = reduce(lambda acc, v: merge(acc, v, **shape_), order, [])
    right = reduce(lambda acc, v: merge(v, acc, **shape_), reversed(order), [])
    everything = merge(*values, **shape_)
    assert visible(left, MAX_ITEMS) == visible(right, MAX_ITEMS) == visible(everything, MAX_ITEMS)


@property_test
@given(histories(max_deletes=4, fixed_scores=True))
def test_within_the_margin_the_merge_shows_exactly_the_untrimmed_timeline(history):
    """Invariants 1 and 3: no acknowledged add is lost, and the top items show."""
    operations, siblings, deletes = history
    shape_ = shape(deletes, 64)
    merged = merged_history(operations, siblings, shape_)
    assert visible(merged, MAX_ITEMS) == ideal(operations)


@property_test
@given(histories(), st.integers(min_value=0, max_value=3))
def test_a_delete_is_never_undone_while_its_tombstone_is_kept(history, margin):
    """Invariant 2, with any margin (even none): deleted ids never come back."""
    operations, siblings, _ = history
    shape_ = shape(margin, 64)
    merged = merged_history(operations, siblings, shape_)
    winners = resolve([entry for _, entry in operations])
    deleted = {uniq_id for uniq_id, entry in winners.items() if entry.deleted}
    assert not deleted & {e.id for e in live(merged)}


@property_test
@given(histories(), st.integers(min_value=0, max_value=3))
def test_the_visible_timeline_is_bounded_unique_and_ordered(history, margin):
    """Invariant 3: at most max_items live entries, each id once, in (score, id) order."""
    operations, siblings, _ = history
    shape_ = shape(margin, 64)
    merged = merged_history(operations, siblings, shape_)
    shown = visible(merged, MAX_ITEMS)
    assert len(shown) <= MAX_ITEMS
    assert len({e.id for e in shown}) == len(shown)
    assert shown == sorted(shown, key=lambda e: (e.score, e.id), reverse=True)
    assert all(not e.deleted for e in shown)


def test_a_concurrent_change_of_score_can_resurface_the_older_score_once_trimmed():
    """The documented limit of the margin: the newer version fell off, the older had not."""
    shape_ = shape(0, 16)
    lower = merge([Entry(i, 5, i) for i in range(1, 6)] + [Entry(0, 0, 9)], **shape_)
    older_higher = [Entry(0, 9, 2)]
    assert [e.id for e in visible(merge(lower, older_higher, **shape_), MAX_ITEMS)] == [0, 5, 4, 3, 2]


def test_tombstones_take_no_visible_slot():
    """timak counted tombstones toward max_items, so each delete shrank the timeline."""
    shape_ = shape(0, 16)
    value = merge([Entry(i, i, i) for i in range(1, 6)], **shape_)
    value = merge(value, [Entry(5, 5, 10, None, True), Entry(4, 4, 11, None, True)], **shape_)
    value = merge(value, [Entry(6, 6, 12), Entry(7, 7, 13)], **shape_)
    assert [e.id for e in visible(value, MAX_ITEMS)] == [7, 6, 3, 2, 1]


def test_equal_clocks_resolve_the_same_whatever_the_order():
    add, tombstone = Entry("a", 1, 7, {"x": 1}), Entry("a", 1, 7, None, True)
    other = Entry("a", 2, 7, {"x": 2})
    for pair in ([add, tombstone], [tombstone, add]):
        assert resolve(pair)["a"] is tombstone
    assert resolve([add, other])["a"] == resolve([other, add])["a"]


def test_mixed_int_and_str_ids_order_by_score_then_id():
    entries = [Entry("b", 1, 1), Entry(2, 1, 2), Entry("a", 1, 3), Entry(1, 2, 4)]
    assert [e.id for e in order_live(entries)] == [1, "b", "a", 2]
