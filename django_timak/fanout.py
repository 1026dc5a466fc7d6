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
import threading
from contextlib import contextmanager
from functools import partial

from django.db import transaction

from . import outbox
from .aliases import lazy_names
from .conf import fanout_settings
from .exceptions import TimelineConfigError
from .operations import Operation, apply_batch, group, report_failures
from .refs import model_label

logger = logging.getLogger("django_timak")

#: Names that lived here before django_timak.conf and django_timak.operations.
__getattr__ = lazy_names(
    __name__,
    {
        "SETTING": "django_timak.conf:FANOUT",
        "DEFAULTS": "django_timak.conf:FANOUT_DEFAULTS",
        "RUN_MODES": "django_timak.conf",
        "ADD": "django_timak.operations",
        "DELETE": "django_timak.operations",
        "apply_operations": "django_timak.operations",
        "report": "django_timak.operations:report_failures",
        "deliver": "django_timak.fanout:run_recorded",
    },
)


def publish(model, operations: list[Operation], using: str | None = None) -> None:
    """Apply ``operations`` once the current transaction on ``using`` commits.

    A rolled-back transaction drops them with it. Operations on timelines that use
    the outbox are first recorded in that same transaction, so a commit guarantees
    them even if the store is down when they are applied.
    """
    if not operations:
        return
    try:
        config = fanout_settings()
    except TimelineConfigError as e:  # a server that runs no checks: the save must still succeed
        report_failures(model, [(operations, e)])
        return
    outboxed = {alias: outbox.enabled_for(alias) for alias in {op.timeline for op in operations}}
    recorded = [op for op in operations if outboxed[op.timeline]]
    direct = [op for op in operations if not outboxed[op.timeline]]
    collected = getattr(_collecting, "batch", None)
    if recorded:
        ids = outbox.record(recorded, using=using)
        if collected is not None:
            transaction.on_commit(partial(collected.outboxed.setdefault(using, []).extend, ids), using=using)
        else:
            transaction.on_commit(partial(run_recorded, ids, using, config), using=using, robust=True)
    if direct:
        if collected is not None:
            transaction.on_commit(partial(collected.direct.setdefault(model, []).extend, direct), using=using)
        else:
            transaction.on_commit(partial(run, model, direct, config), using=using, robust=True)


class _Batch:
    def __init__(self):
        self.direct = {}  # model -> operations
        self.outboxed = {}  # database -> outbox row ids

    def flush(self):
        config = fanout_settings()
        for model, operations in self.direct.items():
            run(model, operations, config)
        for using, ids in self.outboxed.items():
            run_recorded(ids, using, config)


_collecting = threading.local()


@contextmanager
def batched():
    """Collect the fan-out of every save in the block; apply it, each key once per batch, at the end.

    For imports, seed scripts and other loops of saves: without it each save writes
    each of its keys. Operations of saves whose transaction rolled back are dropped,
    as ever; the rest are applied after the block (after the enclosing transaction,
    if there is one) even if the block raised.
    """
    if getattr(_collecting, "batch", None) is not None:
        yield
        return
    batch = _collecting.batch = _Batch()
    try:
        yield
    finally:
        _collecting.batch = None
        transaction.on_commit(batch.flush, robust=True)


def run_recorded(ids: list[int], using: str | None, config: dict) -> None:
    """Deliver a commit's outbox rows: inline, or in a task; failures stay recorded."""
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
        report_failures(model, [(batch, e)])


def batches(operations, size: int) -> list[list[Operation]]:
    """Split ``operations`` into batches of at most ``size`` writes (groups)."""
    groups = list(group(operations).values())
    return [[op for g in groups[i : i + size] for op in g] for i in range(0, len(groups), size)]
