"""Timeline values to bytes and back.

A stored value starts with a 4-byte header: the magic ``tk``, the format version and
the compressor's code. Any value therefore reads back whatever ``COMPRESS`` setting
the reader has, so the setting can change on a live system.

The body is compact JSON: ``[live, tombstones]``, each entry a list
``[id, score, clock]`` with the data appended when there is any (a tombstone's
data marks an item detached by an unfollow rather than deleted), and a live entry's
actor after its data (null when it has none) when it has one.
"""

import json
import threading
import zlib

from .entries import Entry, tombstone
from .exceptions import CorruptValue, InvalidData

MAGIC = b"tk"
VERSION = 1

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


def dumps_data(data) -> str:
    """Return ``data`` as compact JSON, or raise InvalidData naming the problem."""
    try:
        return _dumps(data)
    except (TypeError, ValueError) as e:
        raise InvalidData(f"obj_data must be JSON-serialisable: {e}") from e


def encode(entries: list[Entry], compress=None) -> bytes:
    """Return the stored bytes of a normalised value (live entries, then tombstones)."""
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
    code, _ = COMPRESSORS[compress]
    body = _dumps((live, dead)).encode()
    return MAGIC + bytes((VERSION,)) + code + _compressor(code).compress(body)


def _live(fields) -> Entry:
    """Return the live entry of one encoded ``[id, score, clock, data?, actor?]``."""
    if len(fields) > 4:
        return Entry(fields[0], fields[1], fields[2], fields[3], False, fields[4])
    return Entry(*fields)


def decode(value: bytes) -> list[Entry]:
    """Return the entries of stored bytes; raise CorruptValue for foreign bytes."""
    if value[:2] != MAGIC or value[2:3] != bytes((VERSION,)) or value[3:4] not in _BY_CODE:
        raise CorruptValue(f"not a django-timak value (header {bytes(value[:4])!r})")
    try:
        live, dead = _loads(_compressor(value[3:4]).decompress(value[4:]))
        # A tombstone's data is DETACHED, or a group's removed members (see ``groups``).
        return [_live(e) for e in live] + [Entry(*e, True) if len(e) > 3 else tombstone(e[0], e[2], e[1]) for e in dead]
    except CorruptValue:
        raise
    except Exception as e:  # zlib.error, zstandard.ZstdError, JSON and shape errors
        raise CorruptValue(f"cannot decode a django-timak value: {e}") from e


_scan = json.JSONDecoder().raw_decode


def decode_newer(value: bytes, floor) -> list[Entry]:
    """Return the live entries of a newest-first value scored above ``floor``, decoding no further.

    A count of what is new (an unread count) then costs the new entries, not the
    whole value. ``floor`` None decodes every live entry.
    """
    if value[:2] != MAGIC or value[2:3] != bytes((VERSION,)) or value[3:4] not in _BY_CODE:
        raise CorruptValue(f"not a django-timak value (header {bytes(value[:4])!r})")
    try:
        body = _compressor(value[3:4]).decompress(value[4:]).decode()
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
        raise CorruptValue(f"cannot decode a django-timak value: {e}") from e
