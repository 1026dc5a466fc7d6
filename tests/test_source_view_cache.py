"""A source's view is cached by its bytes: equal bytes share it, any other bytes do not."""

from unittest import mock

from django_timak import codecs
from django_timak.entries import Entry
from django_timak.key_views import source_view


def value(middle_score):
    entries = [Entry(f"post:{n}", 100 - n, 1) for n in range(9)]
    entries[4] = entries[4]._replace(score=middle_score)
    with mock.patch.object(codecs, "BLOCK_SIZE", 3):
        return codecs.encode(entries)


def test_equal_bytes_share_a_view_and_bytes_alike_at_both_ends_do_not():
    source_view.cache_clear()
    first, same, other = value(96), bytes(bytearray(value(96))), value(95)
    assert first is not same and len(first) == len(other)
    assert first[:96] == other[:96] and first[-32:] == other[-32:] and first != other
    assert source_view(same, 10) is source_view(first, 10)
    view = source_view(other, 10)
    assert view is not source_view(first, 10)
    assert [e.score for e in view.walk()][4] == 95
    assert source_view(first, 5) is not source_view(first, 10)
