"""Value layout v2: pages decode only their blocks, and values the previous release wrote still read, merge and are rewritten."""

import json
import zlib

import pytest
from hypothesis import given, settings, strategies as st

from django_timak import Timeline, codecs
from django_timak.entries import Entry
from django_timak.pagination import page_after
from tests.layout_stores import store  # noqa: F401

_V1_DUMPS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_V1_CODES = {None: (b"n", lambda b: b), "zlib": (b"z", lambda b: zlib.compress(b, 6))}


def encode_v1(entries, compress=None):
    """The previous release's encoder, frozen: one JSON body ``[live, tombstones]`` behind ``tk\\x01``."""
    live, dead = [], []
    for e in entries:
        if e.deleted:
            dead.append((e.id, e.score, e.clock) if e.data is None else (e.id, e.score, e.clock, e.data))
        elif e.actor is not None:
            live.append((e.id, e.score, e.clock, e.data, e.actor))
        elif e.data is None:
            live.append((e.id, e.score, e.clock))
        else:
            live.append((e.id, e.score, e.clock, e.data))
    code, compress_body = _V1_CODES[compress]
    return b"tk\x01" + code + compress_body(_V1_DUMPS((live, dead)).encode())


def timeline_value(n, actors=("auth.user:1", 7, None)):
    """Return a normalised newest-first value of ``n`` live entries and two tombstones."""
    live = [Entry(i, 1000 - i, i + 1, {"n": i} if i % 2 else None, False, actors[i % len(actors)]) for i in range(n)]
    return live + [Entry("gone", 5, 10_000, None, True), Entry("away", 4, 10_001, "detached", True)]


@pytest.mark.parametrize("compress", [None, "zlib", "zstd"])
def test_a_value_reads_back_whole_with_its_actors_in_v2(compress):
    value = timeline_value(100)
    stored = codecs.encode(value, compress)
    assert stored[2] == 2
    assert codecs.decode(stored) == value


@pytest.mark.parametrize("compress", [None, "zlib"])
def test_v1_bytes_still_decode_and_page(compress):
    value = timeline_value(100)
    old = encode_v1(value, compress)
    assert codecs.decode(old) == value
    assert list(codecs.iter_live(old, limit=90)) == value[:90]
    assert codecs.decode_newer(old, 990) == codecs.decode_newer(codecs.encode(value), 990) == value[:10]


def test_actors_are_stored_once_per_value():
    value = [Entry(i, -i, i + 1, None, False, "auth.user:424242") for i in range(300)]
    assert len(codecs.encode(value)) < len(encode_v1(value)) * 0.8


def test_a_first_page_reads_no_block_but_its_own():
    value = codecs.encode(timeline_value(200), "zlib")
    # Spoil every byte past the first block: a page of 20 must not look there.
    head = 8 + int.from_bytes(value[4:8], "big")
    _, _, index, ids_length = json.loads(zlib.decompress(value[8:head]))
    first_block_end = head + ids_length + index[0][6]
    spoiled = value[:first_block_end] + b"\xff" * (len(value) - first_block_end)
    page = []
    for entry in codecs.iter_live(spoiled):
        page.append(entry)
        if len(page) == 20:
            break
    assert page == timeline_value(200)[:20]
    with pytest.raises(codecs.CorruptValue):
        codecs.decode(spoiled)


def test_a_page_deep_in_the_value_skips_the_blocks_before_its_cursor():
    entries = timeline_value(1000)
    value = bytearray(codecs.encode(entries))
    head = 8 + int.from_bytes(value[4:8], "big")
    _, _, index, ids_length = json.loads(value[8:head])
    base = head + ids_length
    for *_, offset, length in index[:30]:  # blocks of entries 0..959: spoil them all
        value[base + offset : base + offset + length] = b"\xff" * length
    after = (entries[979].score, (0, entries[979].id))
    assert list(codecs.iter_live(bytes(value), after, limit=1000))[:20] == entries[980:1000]


positions = st.lists(st.tuples(st.integers(0, 40), st.one_of(st.integers(0, 60), st.text("ab", min_size=1, max_size=3))), unique=True, max_size=120)


@settings(max_examples=200, deadline=None)
@given(positions, st.sampled_from(["desc", "asc"]), st.integers(0, 130), st.integers(1, 130), st.sampled_from([None, "zlib"]))
def test_iter_live_yields_what_page_after_finds_in_both_orders(raw, order, cut, limit, compress):
    from django_timak.entries import order_live, position

    entries = order_live([Entry(i, s, 1, None, False, i if isinstance(i, int) and i % 3 else None) for s, i in raw], order)
    after = position(entries[cut]) if cut < len(entries) else None
    expected = page_after(entries[:limit], after, len(entries), order)[0]
    assert list(codecs.iter_live(codecs.encode(entries, compress), after, order, limit)) == expected
    assert list(codecs.iter_live(encode_v1(entries, compress), after, order, limit)) == expected


def test_values_the_previous_release_wrote_are_read_merged_and_rewritten_as_v2(store):
    timeline = Timeline(store, max_items=50, max_tombstones=20)
    old = [Entry(i, 100 - i, i + 1, {"n": i}, False, f"auth.user:{i % 3}") for i in range(60)]
    store.write("k", encode_v1(old), None)
    assert timeline.get("k") == [{"n": i} for i in range(50)]
    page = timeline.page("k", limit=20)
    second = timeline.page("k", limit=20, cursor=page.next_cursor)
    assert [e.id for e in second.entries] == list(range(20, 40)) and second.entries[0].actor == "auth.user:2"
    # An appended v1 value (a fan-out of the previous release) merges with a v1 sibling.
    store.append("k", encode_v1([Entry(500, 1000, 10_000, {"n": 500}), Entry(3, 97, 10_001, None, True)]))
    assert [e.id for e in timeline.page("k", limit=3).entries] == [500, 0, 1]
    timeline.add("k", 600, 2000, {"n": 600})
    versioned = store.read("k")
    assert [bytes(v)[:3] for v in versioned.values] == [b"tk\x02"]
    shown = timeline.get("k", raw=True)
    assert [e.id for e in shown[:4]] == [600, 500, 0, 1] and 3 not in {e.id for e in shown}
    assert shown[2].actor == "auth.user:0" and len(shown) == 50


def test_pages_over_sources_read_v1_and_v2_values_alike(store):
    timeline = Timeline(store, max_items=100)
    store.write("mine", encode_v1([Entry(i, 2 * i, 1, None) for i in range(9, -1, -1)]), None)
    timeline.add_many("theirs", [(100 + i, 2 * i + 1, None) for i in range(10)])
    page = timeline.page("mine", limit=6, sources=["theirs"])
    assert [e.id for e in page.entries] == [109, 9, 108, 8, 107, 7]


def spoiled_past_first_block(value: bytes) -> bytes:
    """Return ``value`` with every block but the first overwritten: reading one of them fails."""
    head = 8 + int.from_bytes(value[4:8], "big")
    _, _, index, ids_length = json.loads(value[8:head])
    end = head + ids_length + index[0][6]
    return value[:end] + b"\xff" * (len(value) - end)


def test_a_first_page_merged_over_sources_reads_the_first_block_of_each_key():
    from django_timak.backends.memory import MemoryBackend

    backend = MemoryBackend()
    home = [Entry(i, 1000 - 2 * i, 1, None) for i in range(200)]
    source = [Entry(1000 + i, 999 - 2 * i, 1, None) for i in range(200)]
    backend.write("home", spoiled_past_first_block(codecs.encode(home)), None)
    backend.write("source", spoiled_past_first_block(codecs.encode(source)), None)
    timeline = Timeline(backend)
    page = timeline.page("home", limit=20, sources=["source"])
    assert [e.id for e in page.entries] == [e.id for pair in zip(home, source) for e in pair][:20]
    with pytest.raises(codecs.CorruptValue):
        timeline.page("home", limit=100, sources=["source"])
