"""Exclusion is read-only and exact: walking the pages of any timeline with any exclusions gives its visible items minus the excluded, in order, once each."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from django_timak import Timeline
from django_timak.entries import Entry
from tests.test_append import DATABASES, build

ACTORS = ["u:0", "u:1", "u:2", 3, None]
_keys = itertools.count()


@st.composite
def timelines_and_exclusions(draw):
    count = draw(st.integers(min_value=0, max_value=40))
    scores = draw(st.lists(st.integers(0, 6), min_size=count, max_size=count))  # runs of equal scores
    actors = draw(st.lists(st.sampled_from(ACTORS), min_size=count, max_size=count))
    entries = [Entry(i, scores[i], i + 1, None, False, actors[i]) for i in range(count)]
    excluded = draw(st.sets(st.sampled_from([a for a in ACTORS if a is not None] + ["u:absent"])))
    return entries, excluded, draw(st.integers(1, 9)), draw(st.booleans())


@pytest.mark.parametrize("store", ["memory", "siblings", *DATABASES])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=timelines_and_exclusions())
def test_pages_with_exclusions_walk_the_visible_items_minus_the_excluded(store, case):
    entries, excluded, limit, merged = case
    timeline = Timeline(build(store), max_items=30)
    key = f"x{next(_keys)}"
    half = len(entries) // 2
    timeline.replay(key, entries[:half])
    timeline.append_changes({key: entries[half:]})  # a sibling, merged at read time
    before = timeline.backend.read(key).values
    sources = [f"{key}:empty"] if merged else []
    expected = [e.id for e in timeline.get(key, raw=True) if e.actor not in excluded]
    seen, cursor = [], None
    while True:
        page = timeline.page(key, limit, cursor, sources=sources, exclude_actors=excluded)
        assert len(page.items) == limit or not page.has_next
        seen += page.items
        if not page.has_next:
            break
        cursor = page.next_cursor
    assert seen == expected
    if len(before) < timeline.compact_on_read:
        assert timeline.backend.read(key).values == before, "an excluding read writes nothing"
