"""Timeline operations, and the one place that applies them to the stores.

An ``Operation`` adds an item to, or deletes it from, one key, stamped with the
clock of the save that implied it. Fan-out, the outbox and ``rebuild_timelines``
all apply operations here: grouped per key (one read-merge-write each, every change
keeping its own clock), concurrently over a bounded pool for a networked store, and
without waiting on a store again once it has failed in this call.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from .entries import Entry, tombstone
from .exceptions import InvalidKey, TimelineBackendError, TimelineConfigError
from .handler import timelines
from .timeline import check_key
from .refs import model_label
from .signals import fanout_failed

logger = logging.getLogger("django_timak")

ADD, DELETE = "add", "delete"


@dataclass(frozen=True)
class Operation:
    """Add an item to, or delete it from, one timeline key, at clock ``modified``."""

    timeline: str
    key: str
    action: str
    id: str | int
    score: int | float | None
    data: Any
    modified: int

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict) -> "Operation":
        return cls(**value)

    def entry(self) -> Entry:
        """Return the change as an ``Entry`` (a tombstone for a delete)."""
        if self.action == DELETE:
            return tombstone(self.id, self.modified, self.score or 0)
        return Entry(self.id, self.score, self.modified, self.data)


def split_storable(operations) -> tuple[list[Operation], list[Operation]]:
    """Return the operations whose key a store can hold, and the others.

    Keys built from a row's free text (``"topic:{topic}"``) can be too long or hold
    control characters; their operations are skipped, never failed on forever.
    """
    storable, skipped = [], []
    for op in operations:
        try:
            check_key(op.key)
        except InvalidKey:
            skipped.append(op)
        else:
            storable.append(op)
    return storable, skipped


def group(operations) -> dict:
    """Return ``{(timeline, key): [Operation]}``, in first-seen order: one write each."""
    groups = {}
    for op in operations:
        groups.setdefault((op.timeline, op.key), []).append(op)
    return groups


def write(ops: list[Operation]) -> None:
    """Apply one group: one read-merge-write of its key, each change with its own clock."""
    first = ops[0]
    timelines[first.timeline].replay(first.key, [op.entry() for op in ops])


def _attempt(ops):
    try:
        write(ops)
    except Exception as e:  # a store error, a bad key or value: keep going, report it
        return e
    return None


def _networked(alias):
    try:
        return timelines[alias].backend.networked
    except TimelineConfigError:
        return False


def apply_operations(operations, workers: int) -> list[tuple[list[Operation], Exception]]:
    """Apply ``operations``, one write per key; return the failed groups with their errors.

    Keys of a networked store are written ``workers`` at a time. Once a store fails,
    its remaining keys are not tried (they fail with the same error), so a caller
    waits for a down store about one timeout, not one per key.
    """
    failures = []
    down = {}
    pending = list(group(operations).values())
    while pending:
        wave = []
        while pending and len(wave) < max(workers, 1):
            ops = pending.pop(0)
            alias = ops[0].timeline
            if alias in down:
                failures.append((ops, down[alias]))
                continue
            wave.append(ops)
            if not _networked(alias):
                break
        if len(wave) > 1:
            with ThreadPoolExecutor(max_workers=len(wave), thread_name_prefix="timak-fanout") as pool:
                errors = list(pool.map(_attempt, wave))
        else:
            errors = [_attempt(ops) for ops in wave]
        for ops, error in zip(wave, errors):
            if error is not None:
                failures.append((ops, error))
                if isinstance(error, (TimelineBackendError, TimelineConfigError)):
                    down[ops[0].timeline] = error
    return failures


def apply_batch(model, batch: list[Operation], workers: int) -> int:
    """Apply one fan-out batch of ``model``'s rows; report failures; return how many writes failed."""
    failures = apply_operations(batch, workers)
    if failures:
        report_failures(model, failures)
    return len(failures)


def report_failures(model, failures: list[tuple[list[Operation], Exception]]) -> None:
    """Log the keys a fan-out batch could not update, and send ``fanout_failed``."""
    keys = sorted({(op.timeline, op.key) for ops, _ in failures for op in ops})
    logger.error(
        "timak: fan-out of %s failed for %d key(s): %s (%s); run rebuild_timelines to repair",
        model_label(model),
        len(keys),
        ", ".join(f"{alias}:{key!r}" for alias, key in keys),
        failures[0][1],
        exc_info=failures[0][1],
    )
    failed = [op for ops, _ in failures for op in ops]
    fanout_failed.send(sender=model, operations=failed, exception=failures[0][1])
