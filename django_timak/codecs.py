"""Timeline values to bytes and back.

A stored value starts with a 4-byte header: the magic ``tk``, the format version and
the compressor's code. Any value therefore reads back whatever ``COMPRESS`` setting
the reader has, so the setting can change on a live system.

Version 2 (written today) lets a page decode only the entries it serves. After the
header come a 4-byte big-endian length, the *head* (compressed JSON
``[actors, tombstones, index]``), then the *blocks*: the live entries in timeline
order, ``BLOCK_SIZE`` a block, each block compressed on its own. The index holds,
per block, ``[first score, first id, last score, last id, count, offset, length]``
(the offset counted from the first block), so ``iter_live`` skips the blocks before
a cursor without decompressing them. The tombstones sit in the head, where a merge
reaches them without the blocks. A live entry is ``[id, score, clock]``, then its
data when it has data or an actor, then its actor as an index into the head's table
of the value's distinct actors. A value of more than one block also carries the
*id list* (the live ids in order, compressed, its length the head's fourth field)
between the head and the blocks: a page merged over several keys learns which ids
two keys share from it, without the blocks (see ``open_blocks``). Version 2 values
written before the id list are still read.

Version 1 (still read; rewritten as version 2 by the next write) is one compressed
JSON body ``[live, tombstones]``, each entry ``[id, score, clock]`` with the data
appended when there is any (a tombstone's data marks an item detached by an unfollow
rather than deleted), and a live entry's actor after its data when it has one.
"""

import json
import threading
import zlib

from .entries import Entry, position, tombstone
from .exceptions import CorruptValue, InvalidData

MAGIC = b"tk"
VERSION = 2
V1, V2 = b"\x01", b"\x02"
#: Live entries a block of a version 2 value holds.
BLOCK_SIZE = 32

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_loads = json.loads


class _Zstd:
    """zstandard, imported on first use so that it stays an optional extra.

    Its compressor and decompressor objects are not thread-safe (sharing them across
    fan-out threads crashes the process), so each thread gets its own pair.
    """

    def __init__(self):
        try:
            import zstandard
        except ImportError as e:
            raise CorruptValue(
                "this value is zstd-compressed: install django-timak[zstd] to read it"
            ) from e
        self._zstandard = zstandard
        self._local = threading.local()

    def _pair(self):
        pair = getattr(self._local, "pair", None)
        if pair is None:
            pair = self._local.pair = (self._zstandard.ZstdCompressor(level=3), self._zstandard.ZstdDecompressor())
        return pair

    def compress(self, data):
        return self._pair()[0].compress(data)

    def decompress(self, data):
        return self._pair()[1].decompress(data)


class _Zlib:
    compress = staticmethod(lambda data: zlib.compress(data, 6))
    decompress = staticmethod(zlib.decompress)


class _Identity:
    compress = decompress = staticmethod(lambda data: data)


#: COMPRESS setting -> (header code, compressor factory)
COMPRESSORS = {None: (b"n", _Identity), "zlib": (b"z", _Zlib), "zstd": (b"s", _Zstd)}
_BY_CODE = {code: factory for code, factory in COMPRESSORS.values()}
_instances = {}


def _compressor(code):
    if code not in _instances:
        _instances[code] = _BY_CODE[code]()
    return _instances[code]


def check_compress(compress) -> None:
    """Raise ValueError for an unknown COMPRESS, ImportError if its library is missing."""
    if compress not in COMPRESSORS:
        names = ", ".join(repr(name) for name in COMPRESSORS)
        raise ValueError(f"unknown COMPRESS {compress!r}; choose one of {names}")
    if compress == "zstd":
        try:
            import zstandard  # noqa: F401
        except ImportError as e:
            raise ImportError("COMPRESS 'zstd' needs django-timak[zstd] (zstandard)") from e


def _check_keys(data) -> None:
    """Raise InvalidData for a dict key that is not a str, at any depth (JSON would make it one)."""
    if isinstance(data, dict):
        for key, item in data.items():
            if not isinstance(key, str):
                raise InvalidData(f"obj_data keys must be strings, not {key!r}: JSON would turn it into {str(key)!r}")
            _check_keys(item)
    elif isinstance(data, (list, tuple)):
        for item in data:
            _check_keys(item)


def dumps_data(data) -> str:
    """Return ``data`` as compact JSON, or raise InvalidData naming the problem.

    Data must read back as it was written: non-string dict keys and lone surrogates
    (which no UTF-8 store can hold) are refused rather than changed.
    """
    _check_keys(data)
    try:
        text = _dumps(data)
        text.encode()
    except UnicodeEncodeError as e:
        raise InvalidData(f"obj_data cannot hold a lone surrogate: {e}") from e
    except (TypeError, ValueError) as e:
        raise InvalidData(f"obj_data must be JSON-serialisable: {e}") from e
    return text


def _header(value):
    """Return ``(version byte, compressor)`` of stored bytes; raise CorruptValue for foreign bytes."""
    version, code = value[2:3], value[3:4]
    if value[:2] != MAGIC or version not in (V1, V2) or code not in _BY_CODE:
        raise CorruptValue(f"not a django-timak value (header {bytes(value[:4])!r})")
    return version, _compressor(code)


def _corrupt(e) -> CorruptValue:
    return CorruptValue(f"cannot decode a django-timak value: {e}")


def encode(entries: list[Entry], compress=None) -> bytes:
    """Return the version 2 bytes of a normalised value (live entries in timeline order, then tombstones)."""
    code, _ = COMPRESSORS[compress]
    compressor = _compressor(code)
    actors, dead, live = {}, [], []
    for e in entries:
        if e.deleted:
            dead.append((e.id, e.score, e.clock) if e.data is None else (e.id, e.score, e.clock, e.data))
        elif e.actor is not None:
            live.append((e.id, e.score, e.clock, e.data, actors.setdefault(e.actor, len(actors))))
        elif e.data is None:
            live.append((e.id, e.score, e.clock))
        else:
            live.append((e.id, e.score, e.clock, e.data))
    index, blocks, offset = [], [], 0
    for start in range(0, len(live), BLOCK_SIZE):
        block = live[start : start + BLOCK_SIZE]
        packed = compressor.compress(_dumps(block).encode())
        first, last = block[0], block[-1]
        index.append((first[1], first[0], last[1], last[0], len(block), offset, len(packed)))
        blocks.append(packed)
        offset += len(packed)
    ids = compressor.compress(_dumps([fields[0] for fields in live]).encode()) if len(index) > 1 else b""
    head = compressor.compress(_dumps((list(actors), dead, index, *([len(ids)] if ids else ()))).encode())
    return b"".join((MAGIC, V2, code, len(head).to_bytes(4, "big"), head, ids, *blocks))


def _live(fields, actors=None) -> Entry:
    """Return the live entry of one encoded ``[id, score, clock, data?, actor?]``."""
    if len(fields) > 4:
        actor = fields[4] if actors is None else actors[fields[4]]
        return Entry(fields[0], fields[1], fields[2], fields[3], False, actor)
    return Entry(*fields)


def _dead(fields) -> Entry:
    # A tombstone's data is DETACHED, or a group's removed members (see ``groups``).
    return Entry(*fields, True) if len(fields) > 3 else tombstone(fields[0], fields[2], fields[1])


class _Layout:
    """A version 2 value opened: its head decoded, its id list and blocks decompressed only when asked."""

    def __init__(self, value, compressor):
        size = int.from_bytes(value[4:8], "big")
        if len(value) < 8 + size:
            raise CorruptValue("cannot decode a django-timak value: truncated head")
        head = _loads(compressor.decompress(value[8 : 8 + size]))
        self.actors, self.dead, self.index = head[:3]
        self.ids_length = head[3] if len(head) > 3 else None
        self.value, self.compressor = value, compressor
        self.base = 8 + size + (self.ids_length or 0)
        self.count = sum(row[4] for row in self.index)

    def raw(self, number) -> bytes:
        *_, offset, length = self.index[number]
        start = self.base + offset
        return self.compressor.decompress(self.value[start : start + length])

    def block(self, number) -> list[Entry]:
        return [_live(fields, self.actors) for fields in _loads(self.raw(number))]


class Blocks:
    """What a merged page reads of a version 2 value: its tombstones and ids at once, its blocks one by one.

    Every method raises CorruptValue for bytes it cannot decode.
    """

    def __init__(self, layout: _Layout):
        self._layout = layout
        #: How many live entries the value holds, and each block.
        self.count, self.counts = layout.count, [row[4] for row in layout.index]
        self.blocks = len(self.counts)

    def tombstones(self) -> list[Entry]:
        return _guarded(lambda: [_dead(fields) for fields in self._layout.dead])

    def ids(self) -> list | None:
        """Return the live ids in timeline order, or None if the value has no id list (one block, or older bytes)."""
        layout = self._layout
        if layout.ids_length is None:
            return None
        start = layout.base - layout.ids_length
        return _guarded(lambda: _loads(layout.compressor.decompress(layout.value[start : layout.base])))

    def block(self, number: int) -> list[Entry]:
        """Return the live entries of block ``number`` (0 first), in timeline order."""
        return _guarded(lambda: self._layout.block(number))

    def actors(self) -> list:
        """Return the head's table of the actors of the value's live entries (group members' are in their data)."""
        return self._layout.actors

    def raw(self, number: int) -> bytes:
        """Return block ``number`` decompressed but not decoded: its JSON, for a search cheaper than a decode."""
        return _guarded(lambda: self._layout.raw(number))


def _guarded(read):
    try:
        return read()
    except CorruptValue:
        raise
    except Exception as e:  # zlib.error, zstandard.ZstdError, JSON and shape errors
        raise _corrupt(e) from e


def open_blocks(value: bytes) -> Blocks | None:
    """Return the ``Blocks`` of a version 2 value, or None for a version 1 value (one body: decode it whole)."""
    version, compressor = _header(value)
    if version == V1:
        return None
    return Blocks(_guarded(lambda: _Layout(value, compressor)))


def decode(value: bytes) -> list[Entry]:
    """Return the entries of stored bytes (either version); raise CorruptValue for foreign bytes."""
    version, compressor = _header(value)
    try:
        if version == V1:
            live, dead = _loads(compressor.decompress(value[4:]))
            return [_live(e) for e in live] + [_dead(e) for e in dead]
        layout = _Layout(value, compressor)
        found = [e for number in range(len(layout.index)) for e in layout.block(number)]
        return found + [_dead(e) for e in layout.dead]
    except CorruptValue:
        raise
    except Exception as e:  # zlib.error, zstandard.ZstdError, JSON and shape errors
        raise _corrupt(e) from e


def _beyond(here, after, descending) -> bool:
    """Return True if position ``here`` comes after position ``after`` in timeline order."""
    return here < after if descending else here > after


def iter_live(value: bytes, after=None, order: str = "desc", limit: int | None = None):
    """Yield the live entries after position ``after`` among the first ``limit``, in timeline order.

    A version 2 value decompresses only the blocks it yields from: those wholly
    before the cursor are skipped by the index, and iteration that stops early (a
    page of 20) leaves the rest untouched. ``limit`` is the timeline's ``max_items``
    (entries beyond it are the merge's margin, never shown).
    """
    version, compressor = _header(value)
    descending = order == "desc"
    try:
        if version == V1:
            live = _loads(compressor.decompress(value[4:]))[0][:limit]
            for fields in live:
                entry = _live(fields)
                if after is None or _beyond(position(entry), after, descending):
                    yield entry
            return
        layout = _Layout(value, compressor)
    except CorruptValue:
        raise
    except Exception as e:
        raise _corrupt(e) from e
    left = float("inf") if limit is None else limit
    for number, (_, _, last_score, last_id, count, _, _) in enumerate(layout.index):
        if left <= 0:
            return
        if after is not None and not _beyond(position(Entry(last_id, last_score, 0)), after, descending):
            left -= count
            continue
        try:
            block = layout.block(number)
        except Exception as e:
            raise _corrupt(e) from e
        for entry in block[: max(0, min(count, left))]:
            if after is None or _beyond(position(entry), after, descending):
                yield entry
        left -= count


_scan = json.JSONDecoder().raw_decode


def decode_newer(value: bytes, floor) -> list[Entry]:
    """Return the live entries of a newest-first value scored above ``floor``, decoding no further.

    A count of what is new (an unread count) then costs the new entries, not the
    whole value. ``floor`` None decodes every live entry.
    """
    version, compressor = _header(value)
    if version == V2:
        found = []
        for entry in iter_live(value):
            if floor is not None and entry.score <= floor:
                break
            found.append(entry)
        return found
    try:
        body = compressor.decompress(value[4:]).decode()
        found = []
        index = 2  # past "[[": entries follow, separated by "," (the encoder writes no spaces)
        while body[index - 1] != "]" and body[index] != "]":
            raw, index = _scan(body, index)
            if floor is not None and raw[1] <= floor:
                break
            found.append(_live(raw))
            index += 1
        return found
    except Exception as e:  # zlib.error, zstandard.ZstdError, JSON and shape errors
        raise _corrupt(e) from e
