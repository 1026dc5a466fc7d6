"""A delete is never lost: batches of deletes larger than the tombstone bound, on every store.

Tombstones past the ``max_tombstones`` most recent are kept while fewer than
``capacity`` live entries outrank them, so deleting more than the bound at once
leaves none of the deleted items, however the deletes arrive (one write, one append,
several appends, compaction, siblings), and the value stays bounded.
"""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from django_timak import Timeline, codecs
from django_timak.entries import Entry, live, merge, tombstone
from tests.test_append import DATABASES, build

STORES = ["memory", "siblings", *DATABASES]
_keys = itertools.count()


@pytest.fixture(params=STORES)
def timeline(request):
    return Timeline(build(request.param), max_items=1000)


def deletes(ids, clock):
    return [tombstone(i, clock + n) for n, i in enumerate(ids)]


def test_one_append_of_101_deletes_after_101_adds_leaves_none(timeline):
    timeline.add_many("k", [(i, i, None) for i in range(101)])
    timeline.append_changes({"k": deletes(range(101), timeline.clock.now(0))})
    assert timeline.get("k") == []


def test_150_deleted_of_150_in_one_append_leaves_none(timeline):
    timeline.add_many("k", [(i, i, None) for i in range(150)])
    timeline.append_changes({"k": deletes(range(150), timeline.clock.now(0))})
    assert timeline.get("k") == []
    assert timeline.page("k").items == [] and not timeline.page("k").has_next


def test_75_and_75_deletes_in_two_appends_leave_none(timeline):
    timeline.add_many("k", [(i, i, None) for i in range(150)])
    timeline.append_changes({"k": deletes(range(75), timeline.clock.now(0))})
    timeline.append_changes({"k": deletes(range(75, 150), timeline.clock.now(0) + 100)})
    assert timeline.get("k") == []


def test_150_deletes_in_one_write_leave_only_the_items_not_deleted(timeline):
    timeline.add_many("k", [(i, i, None) for i in range(160)])
    timeline.delete_many("k", range(150))
    assert timeline.get("k") == list(range(159, 149, -1))


def test_an_older_add_arriving_after_a_mass_delete_stays_deleted(timeline):
    timeline.add_many("k", [(i, i, None) for i in range(150)], modified=1000)
    timeline.append_changes({"k": deletes(range(150), 2000)})
    timeline._compact("k")
    timeline.replay("k", [Entry(i, i, 1000) for i in range(150)])
    assert timeline.get("k") == []


def test_a_tombstone_that_beats_an_item_takes_its_score():
    merged = merge([Entry("a", 50, 1)], [tombstone("a", 2)], capacity=10, tombstones=0)
    assert merged == [tombstone("a", 2, 50)]


def test_tombstones_outranked_by_a_full_timeline_are_forgotten_and_the_value_stays_bounded():
    items = [Entry(i, 1000 + i, 1) for i in range(10)]
    old = [tombstone(f"old{i}", 2, i) for i in range(50)]  # below every live item
    merged = merge(items, old, capacity=10, tombstones=5)
    assert len(live(merged)) == 10 and len(merged) == 15
    high = [tombstone(f"high{i}", 2, 5000 + i) for i in range(50)]  # above every live item
    merged = merge(items, high, capacity=10, tombstones=5)
    assert len(merged) - len(live(merged)) == 5 + 10, "at most capacity tombstones past the recent ones"


@st.composite
def mass_deletes(draw):
    """Return items, then batches of deletes of them (each batch up to 10x the bound), and how each batch arrives."""
    count = draw(st.integers(min_value=1, max_value=40))  # a value holds at most capacity (40) items
    ids = draw(st.permutations(range(count)))
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=count), max_size=3)))
    batches = [ids[a:b] for a, b in zip([0, *cuts], [*cuts, count]) if b > a]
    ways = [draw(st.sampled_from(["append", "write", "replay"])) for _ in batches]
    compact = draw(st.booleans())
    return count, batches, ways, compact


@pytest.mark.slow
@pytest.mark.parametrize("store", STORES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=mass_deletes())
def test_batches_of_deletes_larger_than_the_bound_are_never_lost(store, case):
    count, batches, ways, compact = case
    timeline = Timeline(build(store), max_items=40, max_tombstones=4)
    key = f"p{next(_keys)}"
    timeline.add_many(key, [(i, i % 7, None) for i in range(count)], modified=1000)
    clock = 2000
    gone = set()
    for batch, way in zip(batches, ways):
        changes = deletes(batch, clock)
        clock += len(batch)
        if way == "append":
            timeline.append_changes({key: changes})
        elif way == "write":
            timeline.delete_many(key, batch, modified=clock)
        else:
            timeline.replay(key, changes)
        gone |= set(batch)
        if compact:
            timeline._compact(key)
        # An older add of every item, late: none of the deleted ones comes back.
        timeline.replay(key, [Entry(i, i % 7, 1000) for i in range(count)])
        assert set(timeline.get(key)) == set(range(count)) - gone
    values = timeline.backend.read(key).values
    for value in values:
        stored = codecs.decode(value)
        assert len(stored) - len(live(stored)) <= timeline.capacity + max(timeline.max_tombstones, count)


versions = st.builds(
    Entry,
    st.integers(0, 3),
    st.integers(0, 5),
    st.integers(1, 4),
    st.sampled_from([None, "detached", {"n": 1}]),
    st.booleans(),
).map(lambda e: e._replace(data=e.data if e.deleted or e.data != "detached" else None))
values = st.lists(versions, max_size=6)


@settings(max_examples=300, deadline=None)
@given(a=values, b=values, c=values)
def test_tombstones_taking_scores_keep_what_merges_show_and_hide_commutative_associative_and_idempotent(a, b, c):
    """Exact on what a value shows and hides; a tombstone's score (its rank for retention) may
    differ by order or grouping, as a live version that won earlier no longer carries the score it beat."""

    def m(*lists):
        return merge(*lists, capacity=100, tombstones=100)

    def meaning(value):
        return live(value), {(e.id, e.clock, repr(e.data)) for e in value if e.deleted}

    assert meaning(m(a, b)) == meaning(m(b, a))
    assert meaning(m(m(a, b), c)) == meaning(m(a, m(b, c))) == meaning(m(a, b, c))
    assert m(m(a), m(a)) == m(a)
