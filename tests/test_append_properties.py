"""Any interleaving of appends, read-merge-writes and compactions gives the timeline of the changes applied one by one.

On every store: memory with and without siblings, and the database. Within the margin
(no more deletes than ``margin``, an id keeping its score, as fan-out does) the visible
timeline (ids, scores, data; a repeated add may keep its older clock) is exactly the
one-by-one result, and a deleted id never shows again.
"""

import itertools
from functools import reduce

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from django_timak import Timeline, codecs
from django_timak.entries import Entry, live, merge, resolve, visible
from django_timak.exceptions import WriteConflict
from tests.test_append import DATABASES, build

MAX_ITEMS = 5
IDS = 12
_keys = itertools.count()


@st.composite
def schedules(draw):
    """Return steps: each change (increasing clocks) with how it is applied, and what happens between.

    A change is appended, read-merged-written, or read now and written back later
    ("held"), after other changes have landed. Between changes: compactions, plain
    reads, and the release of the oldest held write.
    """
    scores = draw(st.lists(st.integers(min_value=0, max_value=4), min_size=IDS, max_size=IDS))
    steps = []
    deletes = 0
    for clock in range(1, draw(st.integers(min_value=1, max_value=30)) + 1):
        uniq_id = draw(st.integers(min_value=0, max_value=IDS - 1))
        delete = deletes < 4 and draw(st.booleans())
        deletes += delete
        data = None if delete else draw(st.sampled_from([None, {"n": uniq_id}]))
        change = Entry(uniq_id, scores[uniq_id], clock, data, delete)
        steps.append((draw(st.sampled_from(["append", "write", "held"])), change))
        steps += [(between, None) for between in draw(st.lists(st.sampled_from(["compact", "read", "release"]), max_size=2))]
    return steps, deletes


def held_write(timeline, key, change):
    """Read ``key`` now; return the function that writes the change back over that read."""
    versioned = timeline.backend.read(key)

    def release():
        found = merge(timeline._merged(versioned), [change], capacity=timeline.capacity, tombstones=64)
        try:
            timeline.backend.write(key, codecs.encode(found), versioned.token)
        except WriteConflict:
            timeline.replay(key, [change])  # what a timeline does: read again and merge

    return release


def run(schedule, timeline, compactor, key):
    held = []
    for how, change in schedule:
        if how == "append":
            timeline.append_changes({key: [change]})
        elif how == "write":
            timeline.replay(key, [change])
        elif how == "held":
            held.append(held_write(timeline, key, change))
        elif how == "compact":
            compactor.get(key)
        elif how == "read":
            timeline.get(key)
        elif held:
            held.pop(0)()
    for release in held:
        release()


@pytest.mark.slow
@pytest.mark.parametrize("store", ["memory", "siblings", *DATABASES])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schedules())
def test_any_interleaving_shows_the_changes_applied_one_by_one(store, schedule):
    steps, deletes = schedule
    backend = build(store)
    shape = {"max_items": MAX_ITEMS, "margin": deletes, "max_tombstones": 64}
    timeline = Timeline(backend, **shape, compact_on_read=100, compact_on_append=3)
    compactor = Timeline(backend, **shape, compact_on_read=2)
    key = f"home:{next(_keys)}"
    run(steps, timeline, compactor, key)
    changes = [change for _, change in steps if change is not None]
    one_by_one = reduce(lambda value, c: merge(value, [c], capacity=MAX_ITEMS + deletes, tombstones=64), changes, [])
    shown = [(e.id, e.score, e.data) for e in timeline.get(key, raw=True)]
    assert shown == [(e.id, e.score, e.data) for e in visible(one_by_one, MAX_ITEMS)]
    deleted = {uniq_id for uniq_id, entry in resolve(changes).items() if entry.deleted}
    assert not deleted & {e.id for e in live(compactor.get(key, raw=True))}
