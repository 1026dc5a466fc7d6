"""Opaque pagination cursors: the position after the last item a page showed.

A cursor holds the (score, id) of that item, never an offset, so items added or
removed in between neither repeat nor skip (DRF's CursorPagination keeps only the
first ordering field and so breaks on ties; ids break our ties). A checksum makes
accidental or careless edits fail loudly as ``InvalidCursor``; a cursor carries no
secret, and a forged one can only point at another position of the same timeline.
"""

import base64
import binascii
import hashlib
import json

from .entries import Entry, check_score, position
from .exceptions import InvalidCursor

MAX_CURSOR_LENGTH = 1024
_VERSION = 1


def _checksum(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=4, person=b"timak-cursor").digest()


def encode_cursor(entry: Entry) -> str:
    """Return the cursor pointing just after ``entry``."""
    payload = json.dumps([_VERSION, entry.score, entry.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(_checksum(payload) + payload).rstrip(b"=").decode()


def decode_cursor(cursor: str):
    """Return the position a cursor points after; raise InvalidCursor if it is not ours."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("invalid cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        digest, payload = raw[:4], raw[4:]
        if digest != _checksum(payload):
            raise InvalidCursor("invalid cursor: checksum mismatch")
        version, score, id_ = json.loads(payload)
        check_score(score)
    except InvalidCursor:
        raise
    except (binascii.Error, ValueError, TypeError) as e:
        raise InvalidCursor(f"invalid cursor: {e}") from e
    if version != _VERSION or isinstance(id_, bool) or not isinstance(id_, (int, str)):
        raise InvalidCursor("invalid cursor: unknown version or id")
    return position(Entry(id_, score, 0))


def page_after(live: list[Entry], after, limit: int, order: str = "desc"):
    """Return ``(items, more)``: up to ``limit`` live entries after position ``after``.

    ``live`` is in timeline order; ``after`` is None for the first page. A binary
    search finds the start, so a page costs O(log n + limit).
    """
    start = 0
    if after is not None:
        lo, hi = 0, len(live)
        descending = order == "desc"
        while lo < hi:
            mid = (lo + hi) // 2
            here = position(live[mid])
            if (here < after) if descending else (here > after):
                hi = mid
            else:
                lo = mid + 1
        start = lo
    items = live[start : start + limit]
    return items, start + limit < len(live)
