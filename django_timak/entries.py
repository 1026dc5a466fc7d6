"""Timeline entries and their merge: a pure, state-based CRDT.

A timeline value is a list of entries: the live ones in timeline order, then the
tombstones, most recent first. ``merge`` combines sibling values:

* per id, the entry with the greatest ``clock`` wins (on a tie a tombstone wins,
  then the greater content, so the result never depends on argument order);
* live entries are ordered by (score, id), newest first for ``"desc"``;
* live entries are trimmed to ``capacity`` (``max_items`` plus a margin); a
  tombstone that beats a live version takes its score, and is kept while it is
  among the ``tombstones`` most recent ones or fewer than ``capacity`` live entries
  outrank it (at most ``capacity`` such), so a batch of deletes is never lost.

Without trimming the merge is commutative, associative and idempotent. Trimming keeps
those laws for the visible window (the first ``max_items`` live entries) as long as
no more than ``margin`` deletes meet in one merge, and a deleted id stays deleted as
long as its item could still be shown.
"""

import json
import marshal
import math
from itertools import chain
from typing import Any, NamedTuple

from . import groups

ORDERS = ("desc", "asc")


class _EntryFields(NamedTuple):
    id: str | int
    score: int | float
    clock: int
    data: Any = None
    deleted: bool = False
    actor: str | int | None = None


class Entry(_EntryFields):
    """One item of a timeline, or the tombstone of a deleted one.

    ``clock`` is the hybrid logical clock value (``django_timak.clock``) of the entry's
    last change: of two versions of one id, the greater clock wins. ``actor`` names
    who the item is by (a row's actor, as its ``TimelineField`` declares it), so
    that a read can leave out an actor's items without hydrating rows. ``modified``, its
    old name, still reads it and still names it in ``_replace``.
    """

    __slots__ = ()

    @property
    def modified(self) -> int:
        return self.clock

    def _replace(self, **changes) -> "Entry":
        if "modified" in changes:
            changes["clock"] = changes.pop("modified")
        return super()._replace(**changes)

    @property
    def value(self):
        """Return what ``Timeline.get`` shows for this entry: its data, else its id."""
        return self.id if self.data is None else self.data


#: The ``data`` of a tombstone that detached an item from a timeline without deleting
#: it (an unfollow's ``remove_items``): copying the item back may restore it.
DETACHED = "detached"


def tombstone(uniq_id, clock: int, score: int | float = 0, *, detached: bool = False) -> Entry:
    """Return the entry that records ``uniq_id`` as deleted (or only detached) at ``clock``."""
    return Entry(uniq_id, score, clock, DETACHED if detached else None, True)


def is_detached(entry: Entry) -> bool:
    """Return True for the tombstone of an item detached from this timeline, not deleted."""
    return entry.deleted and entry.data == DETACHED


_canonical = json.JSONEncoder(sort_keys=True, default=repr).encode


def _identical(x, y) -> bool:
    """Return True if two data are surely the same JSON, without encoding them.

    ``==`` alone is not enough (``1 == 1.0 == True``, ``0.0 == -0.0``); marshal's
    bytes tell those apart, so equal bytes mean equal JSON. False means "unsure".
    """
    if x is y:
        return True
    try:
        return x == y and marshal.dumps(x) == marshal.dumps(y)
    except ValueError:  # a type marshal cannot write
        return False


def wins(a: Entry, b: Entry) -> bool:
    """Return True if ``a`` supersedes ``b`` (two versions of one id).

    Equal clocks mostly come from one write repeated in several siblings, so the
    content comparison looks for that cheaply before encoding any JSON.
    """
    if a.clock != b.clock:
        return a.clock > b.clock
    if a.deleted != b.deleted:
        return a.deleted
    if a.deleted and not _identical(a.data, b.data):
        # Two tombstones at one clock: the data decides first, since the winner takes
        # the greater score anyway (``supersede``), so no grouping of a merge changes it.
        return _canonical(a.data) > _canonical(b.data)
    if a.score != b.score:
        return a.score > b.score
    if _identical(a.data, b.data):
        return a.actor != b.actor and _canonical(a.actor) > _canonical(b.actor)
    return _canonical(a.data) > _canonical(b.data)


def supersede(winner: Entry, loser: Entry) -> Entry:
    """Return ``winner`` as it stands after beating ``loser``: a tombstone takes the greater score.

    Deletes often carry score 0; ranked at the score of what they hide, they are kept
    as long as that item could still be shown (see ``normalize``). The score is a rank
    for retention only: what the merge shows and hides never depends on it.
    """
    if winner.deleted and loser.score > winner.score:
        return winner._replace(score=loser.score)
    return winner


def position(entry: Entry):
    """Return the (score, id) sort key of ``entry``, comparable with any other.

    Ints sort before strings when a timeline mixes both kinds of id.
    """
    return (entry.score, (0, entry.id) if isinstance(entry.id, int) else (1, entry.id))


def order_live(entries: list[Entry], order: str = "desc") -> list[Entry]:
    """Return live ``entries`` sorted by (score, id) in timeline order."""
    reverse = order == "desc"
    try:
        return sorted(entries, key=lambda e: (e.score, e.id), reverse=reverse)
    except TypeError:
        return sorted(entries, key=position, reverse=reverse)


def normalize(by_id: dict, capacity: int, tombstones: int, order: str) -> list[Entry]:
    """Return the stored form of resolved entries: trimmed live, then tombstones."""
    if any(entry.data.__class__ is dict and groups.GROUP in entry.data for entry in by_id.values()):
        by_id = groups.settle(by_id, Entry)
    live = []
    dead = []
    for entry in by_id.values():
        (dead if entry.deleted else live).append(entry)
    dead.sort(key=lambda e: (e.clock, position(e)), reverse=True)
    shown = order_live(live, order)[:capacity]
    return shown + dead[:tombstones] + _still_hiding(dead[tombstones:], shown, capacity, order)


def _still_hiding(older: list[Entry], shown: list[Entry], capacity: int, order: str) -> list[Entry]:
    """Return the older tombstones that could still hide a shown item, most recent first.

    A tombstone is forgotten only once ``capacity`` live entries outrank it by
    (score, id): an older version of the item it deleted, arriving late, would be
    trimmed anyway. At most ``capacity`` of them are kept, those ranking first, so a
    value holds at most ``capacity`` live entries and ``capacity + tombstones`` tombstones.
    """
    if not older:
        return []
    descending = order == "desc"
    if len(shown) >= capacity:
        bar = position(shown[-1])
        older = [e for e in older if (position(e) > bar if descending else position(e) < bar)]
    if len(older) > capacity:
        older = sorted(older, key=position, reverse=descending)[:capacity]
        older.sort(key=lambda e: (e.clock, position(e)), reverse=True)
    return older


def resolve(*sibling_lists) -> dict:
    """Return ``{id: winning entry}`` over every entry of every sibling."""
    by_id = {}
    grouped = {}
    for entry in chain.from_iterable(sibling_lists):
        current = by_id.get(entry.id)
        if current is None:
            by_id[entry.id] = entry
        # The versions of a group join member by member (see ``groups``), all at once.
        elif entry.id in grouped or (
            (entry.data.__class__ is dict or current.data.__class__ is dict)
            and (groups.is_group(entry) or groups.is_group(current))
        ):
            grouped.setdefault(entry.id, [current]).append(entry)
        # Inline shortcuts of wins() for the common cases, since siblings repeat most
        # entries: a newer clock, or the very same version again.
        elif entry.clock != current.clock:
            if entry.clock > current.clock:
                by_id[entry.id] = supersede(entry, current)
            elif current.deleted and entry.score > current.score:
                by_id[entry.id] = supersede(current, entry)
        elif not (entry == current and _identical(entry.data, current.data)):
            by_id[entry.id] = supersede(entry, current) if wins(entry, current) else supersede(current, entry)
    for group_id, versions in grouped.items():
        by_id[group_id] = Entry(*groups.join(*versions))
    return by_id


def merge(*sibling_lists, capacity: int, tombstones: int, order: str = "desc") -> list[Entry]:
    """Merge sibling values into one stored value (see the module docstring)."""
    return normalize(resolve(*sibling_lists), capacity, tombstones, order)


def live(entries: list[Entry]) -> list[Entry]:
    """Return the live prefix of a stored value."""
    for index, entry in enumerate(entries):
        if entry.deleted:
            return entries[:index]
    return entries


def visible(entries: list[Entry], max_items: int) -> list[Entry]:
    """Return the entries a reader sees: the first ``max_items`` live ones."""
    return live(entries)[:max_items]


def latest_clock(entries: list[Entry]) -> int:
    """Return the greatest ``clock`` in a value (0 for an empty one)."""
    return max((e.clock for e in entries), default=0)


def check_score(score) -> None:
    """Raise TypeError/ValueError unless ``score`` is a finite int or float."""
    if isinstance(score, bool) or not isinstance(score, (int, float)):
        raise TypeError(f"score must be a number, not {type(score).__name__}")
    if isinstance(score, float) and not math.isfinite(score):
        raise ValueError(f"score must be finite, not {score!r}")
