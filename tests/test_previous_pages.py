"""Previous pages: a page's ``previous_cursor`` reads back the page before it, the same items in the same order.

Walked on data with runs of equal scores, in both orders, over one key and over
merged sources, with excluded actors, on every store; then the edges: the top, an
empty page, a tampered cursor.
"""

import base64
import json

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings, strategies as st

from django_timak import Timeline, timelines
from django_timak.backends.memory import MemoryBackend
from django_timak.entries import Entry
from django_timak.exceptions import InvalidCursor
from django_timak.pagination import BEFORE, _checksum, decode_bound, encode_cursor
from tests.test_append import DATABASES, build
from tests.views import TopicView


@pytest.fixture(params=["memory", "siblings", *DATABASES])
def store(request):
    return request.param


def entries(count, actor_of=lambda i: None, prefix=""):
    """Return ``count`` entries whose scores come in runs of three, each by the actor ``actor_of(i)`` names."""
    return [Entry(f"{prefix}{i}", i // 3, 1, None, False, actor_of(i)) for i in range(count)]


def forward(timeline, key, limit, **options):
    """Return every page from the top, following ``next_cursor``."""
    pages, cursor = [], None
    while True:
        pages.append(timeline.page(key, limit, cursor, **options))
        if not pages[-1].has_next:
            return pages
        cursor = pages[-1].next_cursor


def backward(timeline, key, limit, start, **options):
    """Return the pages before ``start``, nearest first, following ``previous_cursor`` to the top."""
    pages, cursor = [], start.previous_cursor
    while cursor is not None:
        pages.append(timeline.page(key, limit, cursor, **options))
        cursor = pages[-1].previous_cursor
    return pages


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_previous_cursors_walk_back_through_the_pages_seen_going_forward(store, order):
    timeline = Timeline(build(store), max_items=200, order=order)
    timeline.replay("k", entries(40))
    pages = forward(timeline, "k", 7)
    back = backward(timeline, "k", 7, pages[-1])
    assert [page.items for page in back] == [page.items for page in pages[-2::-1]]
    assert pages[0].previous_cursor is None and back[-1].previous_cursor is None
    assert all(page.has_previous for page in pages[1:])


def test_a_previous_page_links_forward_to_the_page_it_was_reached_from(store):
    timeline = Timeline(build(store), max_items=200)
    timeline.replay("k", entries(30))
    pages = forward(timeline, "k", 8)
    before = timeline.page("k", 8, pages[2].previous_cursor)
    assert before.items == pages[1].items
    assert timeline.page("k", 8, before.next_cursor).items == pages[2].items


def test_previous_pages_over_merged_sources_leave_out_excluded_actors(store):
    timeline = Timeline(build(store), max_items=200)
    timeline.replay("home", entries(20, lambda i: f"u:{i % 4}", "h"))
    timeline.replay("pulled:a", entries(15, lambda i: "u:a", "a"))
    timeline.replay("pulled:b", entries(15, lambda i: "u:b", "b"))
    options = {"sources": [("pulled:a", "u:a"), ("pulled:b", "u:b")], "exclude_actors": {"u:b", "u:1"}}
    pages = forward(timeline, "home", 6, **options)
    assert len(pages) > 3
    back = backward(timeline, "home", 6, pages[-1], **options)
    assert [page.items for page in back] == [page.items for page in pages[-2::-1]]
    shown = [item for page in pages for item in page.items]
    assert shown and not any(item[0] == "b" or (item[0] == "h" and int(item[1:]) % 4 == 1) for item in shown)


def test_a_previous_page_shows_items_added_above_it_since_and_the_next_link_returns():
    timeline = Timeline(MemoryBackend(), max_items=200)
    timeline.replay("k", [Entry(i, i, 1) for i in range(10)])
    second = timeline.page("k", 4, timeline.page("k", 4).next_cursor)
    timeline.add("k", 100, 100)
    before = timeline.page("k", 4, second.previous_cursor)
    assert second.items == [5, 4, 3, 2] and before.items == [9, 8, 7, 6] and before.has_previous
    assert timeline.page("k", 4, before.previous_cursor).items == [100]


def test_an_empty_page_turns_its_own_position_round():
    """A page left empty by deletes links to the items on its other side, its position's own item included."""
    timeline = Timeline(MemoryBackend(), max_items=200)
    timeline.replay("k", [Entry(i, i, 1) for i in range(10, 16)])
    first = timeline.page("k", 3)
    timeline.delete_many("k", [12, 11, 10])
    empty = timeline.page("k", 3, first.next_cursor)
    assert empty.items == [] and empty.next_cursor is None
    assert timeline.page("k", 3, empty.previous_cursor).items == [15, 14, 13]
    timeline.delete_many("k", [15, 14, 13])
    timeline.add("k", 1, 1)
    nothing_before = timeline.page("k", 3, empty.previous_cursor)
    assert nothing_before.items == [] and nothing_before.previous_cursor is None
    assert timeline.page("k", 3, nothing_before.next_cursor).items == [1]
    timeline.add("k", 20, 20)
    top = timeline.page("k", 3, encode_cursor(Entry(13, 13, 0), BEFORE))
    assert top.items == [20] and top.previous_cursor is None
    assert timeline.page("k", 3, top.next_cursor).items == [1]


def test_a_previous_cursor_is_signed_like_any_other():
    cursor = encode_cursor(Entry("a", 5, 1), BEFORE)
    assert decode_bound(cursor) == ((5, (1, "a")), BEFORE)
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-2] ^= 1
    with pytest.raises(InvalidCursor, match="checksum"):
        decode_bound(base64.urlsafe_b64encode(bytes(raw)).decode())
    payload = json.dumps([1, 5, "a", "sideways"], separators=(",", ":")).encode()
    forged = base64.urlsafe_b64encode(_checksum(payload) + payload).decode()
    with pytest.raises(InvalidCursor, match="direction"):
        Timeline(MemoryBackend()).page("k", cursor=forged)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scores=st.lists(st.integers(0, 6), max_size=40),
    limit=st.integers(1, 6),
    order=st.sampled_from(["desc", "asc"]),
    excluded=st.sets(st.integers(0, 3), max_size=2),
    merged=st.booleans(),
)
def test_every_previous_page_equals_the_page_before_it(scores, limit, order, excluded, merged):
    timeline = Timeline(MemoryBackend(), max_items=30, order=order)
    items = [Entry(i, score, 1, None, False, f"u:{i % 4}") for i, score in enumerate(scores)]
    timeline.replay("k", items[::2])
    options = {"exclude_actors": {f"u:{actor}" for actor in excluded}}
    if merged:
        timeline.replay("src", items[1::2])
        options["sources"] = ["src"]
    else:
        timeline.replay("k", items[1::2])
    pages = forward(timeline, "k", limit, **options)
    for page, before in zip(pages[1:], pages):
        again = timeline.page("k", limit, page.previous_cursor, **options)
        assert again.items == before.items
        assert again.has_previous == before.has_previous
        assert timeline.page("k", limit, again.next_cursor, **options).items == page.items


def test_timeline_view_gives_its_template_the_previous_page(rf):
    stores = {"memory": {"BACKEND": "django_timak.backends.memory.MemoryBackend", "MAX_ITEMS": 100}}
    with override_settings(TIMAK_TIMELINES=stores):
        timelines["memory"].add_many("topic:t", [(i, i, None) for i in range(5)])
        view = TopicView.as_view(timeline="memory", paginate_by=2)
        first = view(rf.get("/topics/t/", {"limit": 2}), topic="t").context_data
        second = view(rf.get(first["next_url"]), topic="t").context_data
        back = view(rf.get(second["previous_url"]), topic="t").context_data
        timelines["memory"].backend.clear()
    assert (first["has_previous"], first["previous_url"]) == (False, None) and second["has_previous"]
    assert "limit=2" in second["previous_url"] and back["object_list"] == first["object_list"] == [4, 3]
