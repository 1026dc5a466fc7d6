"""Turn a page of timeline entries back into model instances, and groups into ``Notification``s.

One query per model on the page (``in_bulk``), whatever the page size: the items'
rows, and for groups (``groups``) the shown actors' and the targets' rows. Timeline
order is kept; rows that no longer exist are skipped (a group keeps its count and
its other actors). Entries that are not row references come back as their value
(data, else id), as ``Timeline.get`` shows them. A model can shape its query
(``select_related``...) with ``get_timeline_queryset()``.
"""

from dataclasses import dataclass, field
from typing import Any

from . import entries as core, groups
from .marks import Marks
from .refs import parse_ref

#: Actors of a group hydrated and shown by default; the count covers them all.
SHOWN_ACTORS = 3


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
        """Return the item for a JSON answer: references rather than rows, and the reader's flags."""
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


def hydrate_pairs(entries, marks: Marks | None = None, shown: int = SHOWN_ACTORS) -> list[tuple]:
    """Return ``[(entry, item)]``: a ``Notification`` for a group, the row for a reference, else the value.

    Rows of every model on the page (items, actors, targets) come in one query per
    model; vanished rows are skipped (a group keeps its count and its other actors).
    """
    plans = []
    wanted = []
    for entry in entries:
        if groups.is_group(entry):
            info = groups.info(entry) or {}
            distinct = groups.actors(entry)
            plans.append((entry, distinct, info))
            wanted.extend(distinct[:shown])
            wanted.append(info.get("target"))
        else:
            plans.append((entry, None, None))
            wanted.append(entry.id)
    rows = _rows(ref for ref in wanted if isinstance(ref, str))
    pairs = []
    for entry, distinct, info in plans:
        if distinct is not None:
            refs = [ref for ref in distinct[:shown] if ref in rows]
            item = Notification(
                entry, [rows[ref] for ref in refs], len(distinct), rows.get(info.get("target")), info.get("data"),
                actor_refs=refs, target_ref=info.get("target"),
            )
            if marks is not None:
                item.unread, item.unseen = marks.is_unread(entry.id, entry.score), marks.is_unseen(entry.score)
            pairs.append((entry, item))
        elif entry.id in rows:
            pairs.append((entry, rows[entry.id]))
        elif parse_ref(entry.id) is None:
            pairs.append((entry, entry.value))
    return pairs


def hydrate(entries, marks: Marks | None = None) -> list:
    """Return the items of ``entries`` in order: instances for references, ``Notification``s for groups, else values."""
    return [item for _, item in hydrate_pairs(entries, marks)]
