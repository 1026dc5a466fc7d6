"""Notification feeds: a page of grouped items hydrated, and each reader's unread and seen marks.

A reader's marks (``marks``) are stored beside the feed, under the feed's key plus
``MARKS_SUFFIX``, in the same store: appended blind like fan-out's values and joined
on read, so two tabs marking at once both count. Pages come back as
``Notification``s for groups (actors, the exact count of distinct actors, the target)
and as rows or values for plain items, with one query per model for the whole page.
The unread count reads the feed and the marks in one ``read_many`` and decodes only
the entries scored above the marks (``codecs.decode_newer``).
"""

from dataclasses import dataclass, field
from typing import Any

from . import codecs, entries as core, groups, marks as marks_core
from .exceptions import TimelineBackendError, ValueTooLarge, WriteConflict
from .handler import timelines
from .marks import Marks
from .reading import read_page
from .refs import parse_ref

MARKS_SUFFIX = "#marks"
#: Actors of a group hydrated and shown by default; the count covers them all.
SHOWN_ACTORS = 3


def marks_key(key: str) -> str:
    """Return the key a feed's marks are stored under."""
    return f"{key}{MARKS_SUFFIX}"


@dataclass
class Notification:
    """One grouped item of a page: the newest ``actors`` (rows), how many there are, the target."""

    entry: core.Entry
    actors: list
    actor_count: int
    target: Any
    data: Any
    unread: bool = False
    unseen: bool = False
    #: The references of ``actors`` and ``target``, for JSON.
    actor_refs: list = field(default_factory=list)
    target_ref: Any = None

    @property
    def id(self):
        return self.entry.id

    @property
    def score(self):
        return self.entry.score

    @property
    def others(self) -> int:
        """Return how many actors the item names without showing them ("and 3 others")."""
        return self.actor_count - len(self.actors)

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "score": self.score,
            "actors": self.actor_refs,
            "actor_count": self.actor_count,
            "target": self.target_ref,
            "data": self.data,
            "unread": self.unread,
            "unseen": self.unseen,
        }


def _rows(refs) -> dict:
    """Return ``{reference: row}`` for the references of installed models, one query per model."""
    wanted = {}
    for ref in refs:
        parsed = parse_ref(ref)
        if parsed is not None:
            wanted.setdefault(parsed[0], {})[parsed[1]] = ref
    found = {}
    for model, by_pk in wanted.items():
        getter = getattr(model, "get_timeline_queryset", None)
        queryset = getter() if getter is not None else model._default_manager.all()
        found.update((by_pk[pk], row) for pk, row in queryset.in_bulk(list(by_pk)).items())
    return found


def hydrate_items(entries, marks: Marks | None = None, shown: int = SHOWN_ACTORS) -> list[tuple]:
    """Return ``[(entry, item)]``: a ``Notification`` for a group, the row for a reference, else the value.

    Rows of every model on the page (items, actors, targets) come in one query per
    model; vanished rows are skipped (a group keeps its count and its other actors).
    """
    wanted = []
    for entry in entries:
        if groups.is_group(entry):
            info = groups.info(entry) or {}
            wanted.extend(groups.actors(entry)[:shown])
            wanted.append(info.get("target"))
        else:
            wanted.append(entry.id)
    rows = _rows(ref for ref in wanted if isinstance(ref, str))
    pairs = []
    for entry in entries:
        if groups.is_group(entry):
            info = groups.info(entry) or {}
            distinct = groups.actors(entry)
            refs = [ref for ref in distinct[:shown] if ref in rows]
            item = Notification(
                entry, [rows[ref] for ref in refs], len(distinct), rows.get(info.get("target")), info.get("data"),
                actor_refs=refs, target_ref=info.get("target"),
            )
            if marks is not None:
                item.unread, item.unseen = marks.is_unread(entry.id, entry.score), marks.is_unseen(entry.score)
            pairs.append((entry, item))
        elif parse_ref(entry.id) is None:
            pairs.append((entry, entry.value))
        elif entry.id in rows:
            pairs.append((entry, rows[entry.id]))
    return pairs


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


def read_marks(alias: str, key: str) -> Marks:
    """Return a reader's marks on ``key`` (all its stored values joined)."""
    values = timelines[alias].backend.read(marks_key(key)).values
    return marks_core.join(*(marks_core.decode(v) for v in values))


def page(alias: str, key: str, *, limit: int = 20, cursor: str | None = None, shown: int = SHOWN_ACTORS):
    """Return a ``NotificationPage``: one read of the feed, one of the marks, one query per model."""
    found = read_page(alias, key, limit=limit, cursor=cursor)
    marks = read_marks(alias, key)
    pairs = hydrate_items(found.entries, marks, shown)
    return NotificationPage([item for _, item in pairs], found.next_cursor, marks, found.entries)


def _store(alias: str, key: str, mark: Marks) -> None:
    """Append ``mark`` beside the reader's marks; join them into one value once they pile up."""
    timeline = timelines[alias]
    stored = marks_key(key)
    if timeline.backend.append(stored, marks_core.encode(mark)) < timeline.compact_on_append:
        return
    versioned = timeline.backend.read(stored)
    joined = marks_core.join(*(marks_core.decode(v) for v in versioned.values))
    try:
        timeline.backend.write(stored, marks_core.encode(joined), versioned.token)
    except (WriteConflict, TimelineBackendError, ValueTooLarge):
        pass  # the marks are stored; the next mark compacts them


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


def unread_count(alias: str, key: str) -> Unread:
    """Return the reader's unread and unseen counts: one read, decoding only the entries above the marks."""
    timeline = timelines[alias]
    stored = marks_key(key)
    found = timeline.backend.read_many([key, stored])
    marks = marks_core.join(*(marks_core.decode(v) for v in found[stored].values))
    values = sorted(found[key].values, key=len)
    if not values:
        return Unread(0, 0)
    floors = [marks.seen, marks.read]
    floor = None if None in floors or timeline.order != "desc" else min(floors)
    # Appended values are small and may remove what the largest value holds: decode them whole.
    newer = [codecs.decode_newer(values[-1], floor)] + [codecs.decode(v) for v in values[:-1]]
    shown = core.visible(
        core.merge(*newer, capacity=timeline.capacity, tombstones=timeline.max_tombstones, order=timeline.order),
        timeline.max_items,
    )
    return Unread(
        sum(marks.is_unread(e.id, e.score) for e in shown),
        sum(marks.is_unseen(e.score) for e in shown),
    )
