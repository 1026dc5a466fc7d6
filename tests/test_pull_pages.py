"""Pages over several keys (the reader's key plus pulled sources), on every store.

Merged by (score, id), unique by id, the greatest clock winning per id across keys,
and a cursor that pages across the keys as over one.
"""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from django_timak import Timeline
from django_timak.backends.riak import RiakBackend
from django_timak.entries import Entry, tombstone
from tests.test_append import DATABASE, DATABASES, build

HOME, ALICE, BOB = "user:1:home", "user:2:posts", "user:3:posts"


@pytest.fixture(params=["memory", "siblings", *DATABASES, "riak"])
def backend(request):
    if request.param == "riak":
        return RiakBackend(request.getfixturevalue("riak_url"), bucket=request.getfixturevalue("riak_bucket"))
    return build(request.param)


def post(pk, score, clock=1, **data):
    return Entry(f"post:{pk}", score, clock, data or None)


def ids(page):
    return [entry.id for entry in page.entries]


def walk(timeline, key, sources, limit):
    """Return every page's ids, following the cursors from the top."""
    pages, cursor = [], None
    while True:
        page = timeline.page(key, limit=limit, cursor=cursor, sources=sources)
        pages.append(ids(page))
        if not page.has_next:
            return pages
        cursor = page.next_cursor


def test_read_many_returns_each_keys_values_and_appended_ones_and_nothing_for_a_missing_key(backend):
    backend.write("a", b"written", None)
    backend.append("a", b"appended")
    backend.append("b", b"only appended")
    found = backend.read_many(["a", "b", "missing", "a"])
    assert list(found) == ["a", "b", "missing"]
    assert sorted(found["a"].values) == [b"appended", b"written"]
    assert found["b"].values == [b"only appended"]
    assert found["missing"].values == []
    backend.write("a", b"merged", found["a"].token)
    assert backend.read("a").values == [b"merged"]


@DATABASE
def test_the_database_reads_many_keys_with_their_deltas_in_one_query(using):
    backend = build(f"database:{using}")
    keys = [f"user:{n}:posts" for n in range(11)]
    for key in keys:
        backend.write(key, b"written", None)
        backend.append(key, b"appended")
    with CaptureQueriesContext(connections[using]) as queries:
        found = backend.read_many(keys)
    assert len(queries) == 1
    assert all(len(found[key].values) == 2 for key in keys)


def test_a_merged_page_orders_by_score_then_id_and_shows_an_item_in_two_keys_once(backend):
    timeline = Timeline(backend)
    timeline.append_changes({HOME: [post(1, 10), post(2, 30), post(5, 20)]})
    timeline.append_changes({ALICE: [post(3, 20), post(2, 30)], BOB: [post(4, 20), post(6, 5)]})
    page = timeline.page(HOME, limit=10, sources=[ALICE, BOB])
    # Score 20 is a tie across three keys: ids break it, highest first.
    assert ids(page) == ["post:2", "post:5", "post:4", "post:3", "post:1", "post:6"]
    assert page.keys == (HOME, ALICE, BOB)
    assert not page.has_next


def test_a_delete_in_one_source_hides_the_item_the_readers_key_holds(backend):
    timeline = Timeline(backend)
    timeline.append_changes({HOME: [post(1, 10, clock=5), post(2, 20, clock=5)]})
    timeline.append_changes({ALICE: [post(1, 10, clock=5), tombstone("post:2", 9)]})
    assert ids(timeline.page(HOME, sources=[ALICE])) == ["post:1"]
    assert ids(timeline.page(HOME)) == ["post:2", "post:1"]


def test_the_newest_version_of_an_item_wins_across_keys_with_its_score_and_data(backend):
    timeline = Timeline(backend)
    timeline.append_changes({HOME: [post(1, 10, clock=5, body="old"), post(2, 20)]})
    timeline.append_changes({ALICE: [post(1, 30, clock=8, body="edited")]})
    page = timeline.page(HOME, sources=[ALICE])
    assert page.items == [{"body": "edited"}, "post:2"]


def test_a_detachment_in_the_readers_key_does_not_hide_a_source_the_reader_follows_again(backend):
    timeline = Timeline(backend)
    timeline.append_changes({ALICE: [post(1, 10, clock=5)]})
    timeline.append_changes({HOME: [post(1, 10, clock=5)]})
    timeline.remove_items(ALICE, HOME)
    assert ids(timeline.page(HOME)) == []
    assert ids(timeline.page(HOME, sources=[ALICE])) == ["post:1"]


def test_a_cursor_pages_across_sources_exactly_as_over_one_key(backend):
    timeline = Timeline(backend)
    everything = [post(n, n // 3) for n in range(1, 31)]  # runs of three equal scores
    spread = {HOME: everything[0::3], ALICE: everything[1::3], BOB: everything[2::3]}
    spread[HOME] += everything[1:4]  # a few items in two keys
    timeline.append_changes(spread)
    timeline.append_changes({"one": everything})
    for limit in (1, 2, 4, 7):
        merged = walk(timeline, HOME, [ALICE, BOB], limit)
        assert merged == walk(timeline, "one", [], limit)
        flat = [i for page in merged for i in page]
        assert len(flat) == len(set(flat)) == 30


def test_a_page_without_sources_or_with_its_own_key_reads_one_key(backend):
    timeline = Timeline(backend)
    timeline.append_changes({HOME: [post(1, 10), post(2, 20)]})
    assert timeline.page(HOME, sources=[HOME]) == timeline.page(HOME)
    assert timeline.page(HOME).keys == (HOME,)


def test_a_merged_page_shows_at_most_max_items(backend):
    timeline = Timeline(backend, max_items=3)
    timeline.append_changes({HOME: [post(1, 1), post(2, 2)], ALICE: [post(3, 3), post(4, 4)]})
    assert ids(timeline.page(HOME, sources=[ALICE])) == ["post:4", "post:3", "post:2"]


def test_a_read_of_several_keys_compacts_the_keys_that_hold_enough_values(backend):
    timeline = Timeline(backend, compact_on_read=3)
    for n in range(3):
        timeline.append_changes({ALICE: [post(n, n)]})
    timeline.append_changes({HOME: [post(9, 9)]})
    timeline.page(HOME, sources=[ALICE])
    assert len(backend.read(ALICE).values) == 1
    assert len(backend.read(HOME).values) == 1


def test_a_source_that_changed_since_the_last_page_is_read_afresh(backend):
    timeline = Timeline(backend)
    timeline.append_changes({ALICE: [post(1, 10)]})
    assert ids(timeline.page(HOME, sources=[ALICE])) == ["post:1"]
    timeline.add_many(ALICE, [("post:2", 20, None)])
    assert ids(timeline.page(HOME, sources=[ALICE])) == ["post:2", "post:1"]
    timeline.delete(ALICE, "post:1")
    assert ids(timeline.page(HOME, sources=[ALICE])) == ["post:2"]


def test_an_author_crossing_the_threshold_both_ways_shows_every_post_once_newest_first(backend):
    """Pushed (home and source), then pulled (source only), then pushed again after catch_up."""
    timeline = Timeline(backend)
    pushed = [post(1, 10, clock=1), post(2, 20, clock=2)]
    timeline.append_changes({HOME: pushed, ALICE: pushed})
    timeline.append_changes({ALICE: [post(3, 30, clock=3)]})  # pulled: the home key is not written
    timeline.append_changes({ALICE: [tombstone("post:1", 4)]})  # a delete while pulled
    assert ids(timeline.page(HOME, sources=[ALICE])) == ["post:3", "post:2"]
    timeline.catch_up(ALICE, [HOME])  # back under the threshold: the home key stops pulling
    timeline.append_changes({HOME: [post(4, 40, clock=5)], ALICE: [post(4, 40, clock=5)]})
    assert ids(timeline.page(HOME)) == ["post:4", "post:3", "post:2"]
    assert walk(timeline, HOME, [], 1) == [["post:4"], ["post:3"], ["post:2"]]
