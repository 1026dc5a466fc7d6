"""Notification feeds: a page of grouped items hydrated, and each reader's unread and seen marks.

A reader's marks (``marks``) are stored beside the feed, under the feed's key plus
``MARKS_SUFFIX``, in the same store: appended blind like fan-out's values and joined
on read, so two tabs marking at once both count. Pages come back as
``Notification``s for groups (actors, the exact count of distinct actors, the target)
and as rows or values for plain items, with one query per model for the whole page
(``hydrate``).
The unread count reads the feed and the marks in one ``read_many`` and decodes only
the entries scored above the marks (``codecs.decode_newer``).
"""

import logging
from contextlib import contextmanager
from dataclasses import dataclass

from . import codecs, entries as core, marks as marks_core
from .conf import alias_settings
from .exceptions import (
    CorruptValue,
    TimelineBackendError,
    TimelineConfigError,
    TimelineUnavailable,
    ValueTooLarge,
    WriteConflict,
)
from .erasure_record import ERASURE_KEY, erased
from .exclusions import check_actors, filtered
from .handler import timelines
from .hydrate import SHOWN_ACTORS, hydrate_pairs
from .marks import Marks
from .reading import read_page
from .inputs import check_key

logger = logging.getLogger("django_timak")

MARKS_SUFFIX = "#marks"


def marks_key(key: str) -> str:
    """Return the key a feed's marks are stored under."""
    return f"{key}{MARKS_SUFFIX}"


@dataclass
class NotificationPage:
    """A page of a notification feed, with the reader's marks and the counts they give."""

    items: list
    next_cursor: str | None
    marks: Marks
    entries: list

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def newest_score(self):
        """Return the score of the newest item shown: what opening this page marks as seen."""
        return self.entries[0].score if self.entries else None


@contextmanager
def _available(alias: str, key: str):
    """Raise TimelineUnavailable for a store that fails, as ``reading.read_page`` does; InvalidKey passes."""
    check_key(key)
    check_key(marks_key(key))
    try:
        yield
    except TimelineConfigError as e:
        raise TimelineUnavailable(f"timeline {alias!r} is misconfigured") from e
    except (TimelineBackendError, CorruptValue) as e:
        if not alias_settings(alias)["IGNORE_EXCEPTIONS"]:
            raise
        logger.warning("timak: the marks of %r on timeline %r failed: %s", key, alias, e)
        raise TimelineUnavailable(f"timeline {alias!r} is unavailable") from e


def read_marks(alias: str, key: str) -> Marks:
    """Return a reader's marks on ``key`` (all its stored values joined)."""
    with _available(alias, key):
        values = timelines[alias].backend.read(marks_key(key)).values
        return marks_core.join(*(marks_core.decode(v) for v in values))


def page(alias: str, key: str, *, limit: int = 20, cursor: str | None = None, shown: int = SHOWN_ACTORS, exclude_actors=()):
    """Return a ``NotificationPage``: one read of the feed, one of the marks, one query per model.

    ``exclude_actors`` leaves out the groups whose members are all excluded, and the
    excluded actors from the others' shown actors and counts (see ``exclusions``).
    """
    found = read_page(alias, key, limit=limit, cursor=cursor, exclude_actors=exclude_actors)
    marks = read_marks(alias, key)
    pairs = hydrate_pairs(found.entries, marks, shown)
    return NotificationPage([item for _, item in pairs], found.next_cursor, marks, found.entries)


def _store(alias: str, key: str, mark: Marks) -> None:
    """Append ``mark`` beside the reader's marks; join them into one value once they pile up."""
    stored = marks_key(key)
    with _available(alias, key):
        timeline = timelines[alias]
        if timeline.backend.append(stored, marks_core.encode(mark)) < timeline.compact_on_append:
            return
        versioned = timeline.backend.read(stored)
    joined = marks_core.join(*(marks_core.decode(v) for v in versioned.values))
    try:
        timeline.backend.write(stored, marks_core.encode(joined), versioned.token)
    except (WriteConflict, TimelineBackendError, ValueTooLarge) as e:
        logger.warning("timak: compacting the marks of %r failed (they are stored): %s", key, e)


def mark_seen(alias: str, key: str, score) -> None:
    """Record that the reader saw the feed up to ``score`` (the newest item the page showed)."""
    if score is not None:
        _store(alias, key, Marks(seen=score))


def mark_read(alias: str, key: str, items=None, *, up_to=None) -> None:
    """Record items as read: ``items`` maps ids to the score each had when opened; ``up_to`` marks all up to a score."""
    mark = Marks(read=up_to, items=dict(items or {}))
    if mark.read is not None or mark.items:
        _store(alias, key, mark)


@dataclass(frozen=True)
class Unread:
    """How many items of a feed are unread, and how many unseen."""

    unread: int
    unseen: int


def unread_count(alias: str, key: str, *, exclude_actors=()) -> Unread:
    """Return the reader's unread and unseen counts: one read, decoding only the entries above the marks.

    Items (and groups) that ``exclude_actors`` leaves out of the pages are not counted.
    """
    excluded = check_actors(exclude_actors)
    stored = marks_key(key)
    with _available(alias, key):
        timeline = timelines[alias]
        found = timeline.backend.read_many([key, stored, ERASURE_KEY])
        excluded |= erased(tuple(bytes(v) for v in found[ERASURE_KEY].values))
        marks = marks_core.join(*(marks_core.decode(v) for v in found[stored].values))
        values = sorted(found[key].values, key=len)
        if not values:
            return Unread(0, 0)
        floors = [marks.seen, marks.read]
        floor = None if None in floors or timeline.order != "desc" else min(floors)
        # Appended values are small and may remove what the largest value holds: decode them whole.
        newer = [codecs.decode_newer(values[-1], floor)] + [codecs.decode(v) for v in values[:-1]]
    if len(newer) > 1:
        merged = core.merge(*newer, capacity=timeline.capacity, tombstones=timeline.max_tombstones, order=timeline.order)
    else:
        merged = newer[0]  # one stored value is merged already
    shown = list(filtered(core.visible(merged, timeline.max_items), excluded))
    return Unread(
        sum(marks.is_unread(e.id, e.score) for e in shown),
        sum(marks.is_unseen(e.score) for e in shown),
    )
