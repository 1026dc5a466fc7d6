import pytest
from hypothesis import given, settings, strategies as st

from django_timak import codecs
from django_timak.entries import Entry
from django_timak.exceptions import CorruptValue

ENTRIES = [
    Entry(1, 1293840000000, 7 << 16),
    Entry("blog.post:7", 12.5, 9 << 16, {"body": "héllo", "n": [1, None]}),
    Entry("z", 3, 8 << 16, 0),
    Entry("gone", 2, 10 << 16, None, True),
]
COMPRESSORS = [None, "zlib", "zstd"]


@pytest.mark.parametrize("writer", COMPRESSORS)
@pytest.mark.parametrize("reader", COMPRESSORS)
def test_values_read_back_under_any_compress_setting(writer, reader):
    value = codecs.encode(ENTRIES, writer)
    assert value[:2] == b"tk"
    assert codecs.decode(value) == ENTRIES  # decoding needs no setting at all
    assert codecs.decode(codecs.encode(codecs.decode(value), reader)) == ENTRIES


def test_compression_makes_repetitive_values_smaller():
    many = [Entry(f"blog.post:{i}", i, i, {"body": "lorem ipsum " * 10}) for i in range(200)]
    plain = len(codecs.encode(many))
    assert len(codecs.encode(many, "zlib")) < plain / 4
    assert len(codecs.encode(many, "zstd")) < plain / 4


@pytest.mark.parametrize(
    "value",
    [b"", b"tk", b"xx\x01n[]", b"tk\x02n[[],[]]", b"tk\x01q[[],[]]", b"tk\x01n{", b"tk\x01n[1,2]",
     b"tk\x01n[[[1]],[]]", b"tk\x01z not zlib", b"tk\x01s not zstd"],
)
def test_foreign_bytes_raise_corrupt_value(value):
    with pytest.raises(CorruptValue):
        codecs.decode(value)


def test_a_zstd_value_without_zstandard_names_the_extra(monkeypatch):
    value = codecs.encode(ENTRIES, "zstd")
    monkeypatch.setattr(codecs, "_instances", {})
    monkeypatch.setitem(__import__("sys").modules, "zstandard", None)
    with pytest.raises(CorruptValue, match=r"django-timak\[zstd\]"):
        codecs.decode(value)


ids = st.one_of(st.integers(min_value=-(2**53), max_value=2**53), st.text(min_size=1, max_size=20))
data = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**53), max_value=2**53) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(ids, st.integers(min_value=0, max_value=2**60), data, st.booleans()), max_size=20), st.sampled_from(COMPRESSORS))
def test_round_trip(rows, compress):
    entries = [Entry(i, s, 1, None if dead else d, dead) for i, s, d, dead in rows]
    live = [e for e in entries if not e.deleted]
    dead = [e for e in entries if e.deleted]
    assert codecs.decode(codecs.encode(live + dead, compress)) == live + dead


@pytest.mark.parametrize(
    "value",
    [b"tk\x02n", b"tk\x02n\x00\x00\x00\x40[[],[],[]]", b"tk\x02n\x00\x00\x00\x09[[],[],[]]",
     b"tk\x02n\x00\x00\x00\x1c[[],[],[[1,1,1,1,1,0,9]]][[1,1", b"tk\x02z\x00\x00\x00\x02no"],
)
def test_foreign_v2_bytes_raise_corrupt_value_whole_or_paged(value):
    with pytest.raises(CorruptValue):
        codecs.decode(value)
    with pytest.raises(CorruptValue):
        list(codecs.iter_live(value))
