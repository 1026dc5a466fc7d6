"""What a reader has seen and read of a timeline: marks by score that merge by maximum.

``seen`` is the newest score shown when the reader last opened the feed; ``read``
the score up to which everything was marked read; ``items`` the score each item had
when the reader opened it. An item is unseen while its score is above ``seen``, and
unread while its score is above both ``read`` and its own mark, so a group that
gains an activity after it was read is unread again. Marks never hold a clock: a
mark only says "up to this score", so the join of two marks is their maximum
(commutative, associative, idempotent), concurrent marks from two tabs both count,
and a mark never hides an item scored above it, whenever that item arrives.

Item marks at or below ``read`` say nothing more and are dropped; past ``MAX_ITEMS``
the lowest go, which can only show an item as unread again, never hide one.
"""

import json
from typing import NamedTuple

from .exceptions import CorruptValue

#: Item marks kept per reader and timeline.
MAX_ITEMS = 500
_HEADER = b"tm\x01n"
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


class Marks(NamedTuple):
    """A reader's marks on one timeline (scores; None for "nothing yet")."""

    seen: int | float | None = None
    read: int | float | None = None
    items: dict = {}

    def is_unseen(self, score) -> bool:
        """Return True for an item scored after the feed was last opened."""
        return self.seen is None or score > self.seen

    def is_unread(self, item_id, score) -> bool:
        """Return True for an item scored after everything was read and after it was opened."""
        if self.read is not None and score <= self.read:
            return False
        mark = self.items.get(item_id)
        return mark is None or score > mark


def _higher(a, b):
    return b if a is None else a if b is None else max(a, b)


def join(*marks: Marks) -> Marks:
    """Return the marks that say everything the given ones say (their maximum)."""
    seen = read = None
    items = {}
    for mark in marks:
        seen, read = _higher(seen, mark.seen), _higher(read, mark.read)
        for item_id, score in mark.items.items():
            items[item_id] = _higher(items.get(item_id), score)
    kept = sorted(
        ((score, item_id) for item_id, score in items.items() if read is None or score > read),
        key=lambda pair: (pair[0], str(pair[1])),
        reverse=True,
    )[:MAX_ITEMS]
    return Marks(seen, read, {item_id: score for score, item_id in kept})


def encode(marks: Marks) -> bytes:
    """Return the stored bytes of ``marks``."""
    return _HEADER + _dumps([marks.seen, marks.read, [[i, s] for i, s in marks.items.items()]]).encode()


def decode(value: bytes) -> Marks:
    """Return the marks stored in ``value``; raise CorruptValue for foreign bytes."""
    if value[:4] != _HEADER:
        raise CorruptValue(f"not django-timak marks (header {bytes(value[:4])!r})")
    try:
        seen, read, items = json.loads(value[4:])
        return Marks(seen, read, {item_id: score for item_id, score in items})
    except (ValueError, TypeError) as e:
        raise CorruptValue(f"cannot decode django-timak marks: {e}") from e
