import base64

import pytest
from hypothesis import given, settings, strategies as st

from django_timak import Timeline
from django_timak.backends.memory import MemoryBackend
from django_timak.exceptions import InvalidCursor
from django_timak.pagination import decode_cursor, encode_cursor
from django_timak.entries import Entry


def walk(tl, key, limit, between=None):
    """Return every page's items, calling ``between(page_number)`` after each page."""
    pages, cursor = [], None
    while True:
        page = tl.page(key, limit=limit, cursor=cursor)
        pages.append(page.items)
        if between:
            between(len(pages))
        if not page.has_next:
            return pages
        cursor = page.next_cursor


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_walking_runs_of_equal_scores_shows_each_item_once(order):
    tl = Timeline(MemoryBackend(), max_items=100, order=order)
    for i in range(47):
        tl.add("k", f"id{i:02}", i // 10)  # runs of ten equal scores
    expected = tl.get("k")
    pages = walk(tl, "k", 6)
    assert [len(p) for p in pages] == [6] * 7 + [5]
    assert sum(pages, []) == expected


def test_items_added_while_paging_are_neither_skipped_nor_repeated():
    tl = Timeline(MemoryBackend(), max_items=1000)
    for i in range(95):
        tl.add("k", i, 1000 + i)
    original = tl.get("k")
    pages = walk(tl, "k", 20, between=lambda n: tl.add("k", f"new{n}", 5000 + n))
    assert sum(pages, []) == original
    assert [len(p) for p in pages] == [20, 20, 20, 20, 15]


def test_items_deleted_while_paging_do_not_shift_pages():
    tl = Timeline(MemoryBackend(), max_items=100)
    for i in range(30):
        tl.add("k", i, i)
    first = tl.page("k", limit=10)
    tl.delete("k", first.items[0])
    second = tl.page("k", limit=10, cursor=first.next_cursor)
    assert second.items == list(range(19, 9, -1))


def test_the_last_page_has_no_cursor():
    tl = Timeline(MemoryBackend())
    tl.add("k", 1, 1)
    page = tl.page("k", limit=1)
    assert page.items == [1] and page.next_cursor is None and not page.has_next
    assert tl.page("empty").items == []


def test_a_tampered_cursor_is_refused():
    cursor = encode_cursor(Entry("a", 5, 1))
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-3] ^= 1
    with pytest.raises(InvalidCursor, match="checksum"):
        decode_cursor(base64.urlsafe_b64encode(bytes(raw)).decode())


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80) | st.binary(max_size=60).map(lambda b: base64.urlsafe_b64encode(b).decode()))
def test_any_garbage_cursor_raises_invalid_cursor_only(garbage):
    try:
        decode_cursor(garbage)
    except InvalidCursor:
        pass
