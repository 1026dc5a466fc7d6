"""Fan-out: apply the timeline changes a save or delete implies, after commit.

A save computes plain, JSON-serialisable ``Operation``s stamped with the clock at
save time, so for one row a later operation always carries a greater clock: however
late or often an older one is applied, it cannot undo a later one (the timeline
keeps, per id, the change with the greatest clock). After the transaction commits
they are grouped per key and applied in batches, one write per key per batch:
inline, or one background task per batch; concurrently over a bounded thread pool
when the store is networked. A failure never fails the save: it is logged with the
keys affected and sent as ``signals.fanout_failed``.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction

from . import outbox
from .handler import TimelineConfigError, timelines
from .refs import model_label
from .signals import fanout_failed

logger = logging.getLogger("django_timak")

SETTING = "TIMAK_FANOUT"
DEFAULTS = {
    #: "inline": apply every batch after commit, in the process that saved;
    #: "task": enqueue one task per batch (django.tasks, or the django-tasks backport).
    "RUN": "inline",
    #: Keys written per batch (per task).
    "BATCH_SIZE": 500,
    #: Concurrent writes within a batch, for a networked store.
    "WORKERS": 8,
    #: Where the tasks go when RUN is "task".
    "TASK_BACKEND": "default",
    "TASK_QUEUE": "default",
}
RUN_MODES = ("inline", "task")
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


def fanout_settings() -> dict:
    """Return TIMAK_FANOUT over its defaults, read now so override_settings applies."""
    configured = getattr(settings, SETTING, None) or {}
    config = {**DEFAULTS, **configured}
    if config["RUN"] not in RUN_MODES:
        raise TimelineConfigError(f"{SETTING}['RUN'] must be one of {RUN_MODES}, not {config['RUN']!r}")
    return config


def publish(model, operations: list[Operation], using: str | None = None) -> None:
    """Apply ``operations`` once the current transaction on ``using`` commits.

    A rolled-back transaction drops them with it. Operations on timelines that use
    the outbox are first recorded in that same transaction, so a commit guarantees
    them even if the store is down when they are applied.
    """
    if not operations:
        return
    config = fanout_settings()
    outboxed = {alias: outbox.enabled_for(alias) for alias in {op.timeline for op in operations}}
    recorded = [op for op in operations if outboxed[op.timeline]]
    direct = [op for op in operations if not outboxed[op.timeline]]
    if recorded:
        ids = outbox.record(recorded, using=using)
        transaction.on_commit(partial(deliver, ids, using, config), using=using, robust=True)
    if direct:
        transaction.on_commit(partial(run, model, direct, config), using=using, robust=True)


def deliver(ids: list[int], using: str | None, config: dict) -> None:
    """Apply a commit's recorded operations: inline, or in a task; failures stay recorded."""
    if config["RUN"] != "task":
        outbox.deliver(ids, using=using, workers=config["WORKERS"])
        return
    from .tasks import drain_outbox

    task = drain_outbox.using(backend=config["TASK_BACKEND"], queue_name=config["TASK_QUEUE"])
    try:
        task.enqueue(ids, using)
    except Exception as e:  # any task backend's error: the rows wait for the next drain
        logger.warning("timak: could not enqueue an outbox drain (%s); timak_drain will apply it", e)


def run(model, operations: list[Operation], config: dict) -> None:
    """Apply ``operations`` in batches, inline or as one task per batch."""
    for batch in batches(operations, config["BATCH_SIZE"]):
        if config["RUN"] == "task":
            enqueue(model, batch, config)
        else:
            apply_batch(model, batch, config["WORKERS"])


def enqueue(model, batch: list[Operation], config: dict) -> None:
    """Enqueue ``batch`` as a task; a task backend that refuses it counts as a failure."""
    from .tasks import apply_fanout_batch

    try:
        task = apply_fanout_batch.using(backend=config["TASK_BACKEND"], queue_name=config["TASK_QUEUE"])
        task.enqueue(model_label(model), [op.to_dict() for op in batch])
    except Exception as e:  # any task backend's error: the save must still succeed
        report(model, [(batch, e)])


def group(operations) -> dict:
    """Return ``{(timeline, key, modified): [Operation]}``, in first-seen order.

    Each group is one ``Timeline.update``: it takes one clock for all its changes.
    """
    groups = {}
    for op in operations:
        groups.setdefault((op.timeline, op.key, op.modified), []).append(op)
    return groups


def batches(operations, size: int) -> list[list[Operation]]:
    """Split ``operations`` into batches of at most ``size`` writes (groups)."""
    groups = list(group(operations).values())
    return [[op for g in groups[i : i + size] for op in g] for i in range(0, len(groups), size)]


def write(ops: list[Operation]) -> None:
    """Apply one group: one read-merge-write of its key."""
    first = ops[0]
    timelines[first.timeline].update(
        first.key,
        adds=[(op.id, op.score, op.data) for op in ops if op.action == ADD],
        deletes=[op.id for op in ops if op.action == DELETE],
        modified=first.modified,
    )


def _attempt(ops):
    try:
        write(ops)
    except Exception as e:  # a store error, a bad key or value: keep going, report it
        return ops, e
    return None


def apply_operations(operations, workers: int) -> list[tuple[list[Operation], Exception]]:
    """Apply ``operations``, one write per group; return the failed groups with their errors.

    Groups of a networked timeline are written concurrently, at most ``workers`` at a time.
    """
    by_alias = {}
    for ops in group(operations).values():
        by_alias.setdefault(ops[0].timeline, []).append(ops)
    results = []
    for alias, groups in by_alias.items():
        try:
            networked = timelines[alias].backend.networked
        except TimelineConfigError as e:
            results.extend((ops, e) for ops in groups)
            continue
        if networked and workers > 1 and len(groups) > 1:
            with ThreadPoolExecutor(max_workers=min(workers, len(groups)), thread_name_prefix="timak-fanout") as pool:
                results.extend(pool.map(_attempt, groups))
        else:
            results.extend(_attempt(ops) for ops in groups)
    return [failure for failure in results if failure is not None]


def apply_batch(model, batch: list[Operation], workers: int) -> int:
    """Apply one batch; report failures; return how many writes failed."""
    failures = apply_operations(batch, workers)
    if failures:
        report(model, failures)
    return len(failures)


def report(model, failures: list[tuple[list[Operation], Exception]]) -> None:
    """Log the keys a batch could not update, and send ``fanout_failed``."""
    keys = sorted({f"{op.timeline}:{op.key}" for ops, _ in failures for op in ops})
    logger.error(
        "timak: fan-out of %s failed for %d key(s): %s (%s); run rebuild_timelines to repair",
        model_label(model),
        len(keys),
        ", ".join(keys),
        failures[0][1],
        exc_info=failures[0][1],
    )
    failed = [op for ops, _ in failures for op in ops]
    fanout_failed.send(sender=model, operations=failed, exception=failures[0][1])
