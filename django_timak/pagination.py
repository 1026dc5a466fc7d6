"""Opaque pagination cursors: a position, and on which side of it the page lies.

A cursor holds the (score, id) of an item, never an offset, so items added or
removed in between neither repeat nor skip (DRF's CursorPagination keeps only the
first ordering field and so breaks on ties; ids break our ties). A next page lies
``AFTER`` the last item shown; a previous page ``BEFORE`` the first, and is read
forward up to it, keeping its last ``limit`` items, so it shows the items and order
the reader saw going forward. An empty page hands back its own position, turned
round (``FROM`` and ``UP_TO`` include it). A checksum makes accidental or careless
edits fail loudly as ``InvalidCursor``; a cursor carries no secret, and a forged one
can only point at another position of the same timeline.
"""

import base64
import binascii
import hashlib
import json
from collections import deque

from .entries import Entry, check_score, position
from .exceptions import InvalidCursor

MAX_CURSOR_LENGTH = 1024
_VERSION = 1
#: Where a cursor's page lies from its position, in timeline order.
AFTER, FROM, BEFORE, UP_TO = ">", ">=", "<", "<="
#: The same place seen from the other side: an empty page's way back.
_TURNED = {AFTER: UP_TO, FROM: BEFORE, BEFORE: FROM, UP_TO: AFTER}


def _checksum(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=4, person=b"timak-cursor").digest()


def encode_cursor(entry: Entry, relation: str = AFTER) -> str:
    """Return the cursor of the page lying ``relation`` ``entry`` (just after it by default)."""
    fields = [_VERSION, entry.score, entry.id] + ([] if relation == AFTER else [relation])
    payload = json.dumps(fields, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(_checksum(payload) + payload).rstrip(b"=").decode()


def decode_cursor(cursor: str):
    """Return the position a cursor points at; raise InvalidCursor if it is not ours."""
    return decode_bound(cursor)[0]


def decode_bound(cursor: str):
    """Return ``(position, relation)`` of a cursor; raise InvalidCursor if it is not ours."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("invalid cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        digest, payload = raw[:4], raw[4:]
        if digest != _checksum(payload):
            raise InvalidCursor("invalid cursor: checksum mismatch")
        version, score, id_, *relation = json.loads(payload)
        check_score(score)
    except InvalidCursor:
        raise
    except (binascii.Error, ValueError, TypeError) as e:
        raise InvalidCursor(f"invalid cursor: {e}") from e
    if version != _VERSION or isinstance(id_, bool) or not isinstance(id_, (int, str)):
        raise InvalidCursor("invalid cursor: unknown version or id")
    if relation not in ([], [FROM], [BEFORE], [UP_TO]):
        raise InvalidCursor("invalid cursor: unknown direction")
    return position(Entry(id_, score, 0)), (relation or [AFTER])[0]


def _precedes(a, b, descending: bool) -> bool:
    return a > b if descending else a < b


def _on_side(here, bound, descending: bool) -> bool:
    """Return True if position ``here`` lies on the page side of ``bound``."""
    there, relation = bound
    if relation == AFTER:
        return _precedes(there, here, descending)
    if relation == FROM:
        return not _precedes(here, there, descending)
    if relation == BEFORE:
        return _precedes(here, there, descending)
    return not _precedes(there, here, descending)


def page_at(entries, bound, limit: int, order: str):
    """Return ``(items, next_cursor, previous_cursor)``: the page of ``entries`` (in timeline order) at ``bound``.

    ``bound`` is ``decode_bound``'s answer, or None for the first page. A page after
    a position reads ``limit + 1`` entries past it; a page before one reads from the
    top to it, keeping the last ``limit + 1``, and one entry past it to learn whether
    a next page exists. A forward page reached by a cursor offers a previous page, as
    ``CursorPagination`` does.
    """
    descending = order == "desc"
    if bound is None or bound[1] in (AFTER, FROM):
        found = []
        for entry in entries:
            if bound is None or _on_side(position(entry), bound, descending):
                found.append(entry)
                if len(found) > limit:
                    break
        more, found = len(found) > limit, found[:limit]
        if bound is None:
            return found, encode_cursor(found[-1]) if more else None, None
        back = encode_cursor(found[0], BEFORE) if found else _turned(bound)
        return found, encode_cursor(found[-1]) if more else None, back
    kept, beyond = deque(maxlen=limit + 1), False
    for entry in entries:
        if not _on_side(position(entry), bound, descending):
            beyond = True
            break
        kept.append(entry)
    earlier, found = len(kept) > limit, list(kept)[-limit:]
    ahead = (encode_cursor(found[-1]) if found else _turned(bound)) if beyond else None
    return found, ahead, encode_cursor(found[0], BEFORE) if earlier else None


def _turned(bound) -> str:
    there, relation = bound
    score, (_, id_) = there
    return encode_cursor(Entry(id_, score, 0), _TURNED[relation])


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
