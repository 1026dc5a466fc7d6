"""Fan-out: apply the timeline changes a save or delete implies, after commit.

Inline (the default), a save computes plain, JSON-serialisable ``Operation``s
stamped with the clock at save time, and after the transaction commits they are
grouped per key and appended in batches, one small value per key, reading nothing.
Deferred (``RUN = "task"``, or the outbox for timelines that use it), the save only
records a ``RowChange`` (``row_changes``): the outbox stores it in the save's
transaction, a task carries it, and the worker computes recipients and keys. For one
row a later change always carries a greater clock: however late or often an older
one is applied, it cannot undo a later one (the timeline keeps, per id, the change
with the greatest clock). A failure never fails the save: it is logged with the keys
affected and sent as ``signals.fanout_failed``.
"""

import contextvars
import copy
import logging
import threading
from contextlib import contextmanager
from functools import partial

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

from . import outbox, row_changes
from .aliases import lazy_names
from .clock import default_clock
from .conf import fanout_settings, outbox_settings
from .exceptions import TimelineBackendError, TimelineConfigError
from .handler import timelines
from .operations import Operation, apply_batch, apply_operations, batches, report_failures
from .refs import model_label
from .row_operations import computed, delete_operations, keys_again, save_operations

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


def deferred_aliases(model, config: dict) -> set[str]:
    """Return the aliases of ``model``'s fields whose fan-out a worker computes (tasks or the outbox)."""
    aliases = {field.timeline for field in model._timak_fields}
    if config["RUN"] == "task":
        return aliases
    return {alias for alias in aliases if outbox.enabled_for(alias)}


def publish_save(model, row, previous, using: str | None = None) -> None:
    """Fan out a save of ``row`` (``previous``: the row before it, if a field changed) after commit."""
    clock = default_clock.now()
    try:
        config = fanout_settings()
    except TimelineConfigError as e:  # a server that runs no checks: the save must still succeed
        report_failures(model, [(computed(model, row, save_operations, previous, clock), e)])
        return
    deferred = deferred_aliases(model, config)
    inline = [field for field in model._timak_fields if field.timeline not in deferred]
    own, audience = _by_audience(inline)
    down = {}
    if own:
        publish(model, computed(model, row, save_operations, previous, clock, own), using, config, down, own=True)
    if audience:
        snapshot = copy.copy(row)
        resolve = lambda: computed(model, snapshot, save_operations, previous, clock, audience)  # noqa: E731
        publish_resolved(model, resolve, using, config, down)
    changes = [row_changes.saved(row, previous, alias, clock) for alias in sorted(deferred)]
    defer(model, changes, using, config)


def publish_delete(model, row, keys, using: str | None = None) -> None:
    """Fan out a delete of ``row`` from ``keys`` (``[(alias, key)]``, computed before it went) after commit."""
    clock = default_clock.now()
    try:
        config = fanout_settings()
    except TimelineConfigError as e:
        report_failures(model, [(delete_operations(row, keys, clock), e)])
        return
    deferred = deferred_aliases(model, config)
    inline = [(a, k) for a, k in keys if a not in deferred]
    own, audience = _by_audience([field for field in model._timak_fields if field.timeline not in deferred])
    own_keys = set(computed(model, row, lambda r: r.timeline_keys(own))) if own else set()
    down = {}
    publish(model, delete_operations(row, [pair for pair in inline if pair in own_keys], clock), using, config, down, own=True)
    if audience:
        snapshot = copy.copy(row)  # the pk is gone from ``row`` once delete() returns

        def audience_operations():
            recorded = [pair for pair in inline if pair not in own_keys]
            current = keys_again(lambda: snapshot.timeline_keys(audience))
            return delete_operations(snapshot, sorted(set(recorded) | current), clock)

        publish_resolved(model, audience_operations, using, config, down)
    defer(model, [row_changes.deleted(row, keys, alias, clock) for alias in sorted(deferred)], using, config)


def _by_audience(fields) -> tuple[list, list]:
    """Split ``fields`` into those whose keys come from the row alone and those with recipients."""
    return [f for f in fields if f.recipients is None], [f for f in fields if f.recipients is not None]


def publish_resolved(model, operations, using: str | None, config: dict, down: dict) -> None:
    """Apply what ``operations()`` returns after commit, once the operations published before it are applied.

    Recipients are resolved only then, after the row's own keys (the sources that
    follows copy from) are written: a follow that commits before this resolution is
    among the recipients, and one that commits after it finds the row's own keys
    already written, so its backfill copies the change. Either way the follower's
    timeline gets it (a post, or a delete), however the two interleave.
    """
    collected = current_batch()
    if collected is not None:  # a bulk load: resolved now, as one batch with the rest
        publish(model, operations(), using, config)
    else:
        transaction.on_commit(partial(_run_resolved, model, operations, config, down), using=using, robust=True)


def _run_resolved(model, operations, config, down):
    run(model, operations(), config, down)


def publish(model, operations: list[Operation], using: str | None, config: dict, down: dict | None = None,
            own: bool = False) -> None:
    """Apply ``operations`` once the current transaction on ``using`` commits; a rollback drops them.

    ``own``: the row's own keys, which those on its own database join the save's transaction (``in_transaction``).
    """
    if not operations:
        return
    collected = current_batch()
    if collected is not None:
        transaction.on_commit(partial(collected.direct.setdefault(model, []).extend, operations), using=using)
        return
    later = in_transaction(operations, using, config) if own else operations
    if later:
        transaction.on_commit(partial(run, model, later, config, down), using=using, robust=True)


class _Undone(Exception):
    """Roll back the savepoint of operations that did not all apply in the save's transaction."""


def in_transaction(operations: list[Operation], using: str | None, config: dict) -> list[Operation]:
    """Append the operations whose store is the save's own database in its open transaction; return the rest.

    They then commit with the row, in its commit: others see the row's own keys
    written exactly when they see the row, which is all that resolving recipients
    after commit needs, and the save pays no commit of its own for them. A rollback
    drops them with the row. If any fails, its savepoint is rolled back and all of
    them are applied after commit as the rest are, failures reported there.
    """
    connection = connections[using or DEFAULT_DB_ALIAS]
    if not connection.in_atomic_block or connection.needs_rollback:
        return operations
    joined = {alias for alias in {op.timeline for op in operations} if _joins(alias, connection.alias)}
    now = [op for op in operations if op.timeline in joined]
    if not now:
        return operations
    try:
        with transaction.atomic(using=connection.alias):
            if apply_operations(now, config["WORKERS"]):
                raise _Undone
    except (_Undone, DatabaseError, TimelineBackendError):
        return operations
    return [op for op in operations if op.timeline not in joined]


def _joins(alias: str, using: str) -> bool:
    """Return True if ``alias``'s store writes in database ``using``'s transactions (``writes_in``)."""
    try:
        writes_in = getattr(timelines[alias].backend, "writes_in", None)
    except TimelineConfigError:
        return False
    return writes_in is not None and writes_in(using)


def defer(model, changes: list[row_changes.RowChange], using: str | None, config: dict) -> None:
    """Hand ``changes`` to a worker after commit: through the outbox (recorded now, in the save's
    transaction, so a commit guarantees them), else as a task."""
    if not changes:
        return
    recorded = [change for change in changes if outbox.enabled_for(change.timeline)]
    queued = [change for change in changes if not outbox.enabled_for(change.timeline)]
    collected = current_batch()
    if recorded:
        ids = outbox.record(recorded, using=using)
        if collected is not None:
            transaction.on_commit(partial(collected.outboxed.setdefault(using, []).extend, ids), using=using)
        else:
            transaction.on_commit(partial(run_recorded, ids, using, config), using=using, robust=True)
    if queued:
        if collected is not None:
            transaction.on_commit(partial(collected.queued.setdefault(model, []).extend, queued), using=using)
        else:
            transaction.on_commit(partial(enqueue_changes, model, queued, config), using=using, robust=True)


class _Batch:
    def __init__(self):
        self.direct = {}  # model -> operations
        self.queued = {}  # model -> row changes for tasks
        self.outboxed = {}  # database -> outbox row ids

    def flush(self):
        config = fanout_settings()
        for model, operations in self.direct.items():
            run(model, operations, config)
        for model, changes in self.queued.items():
            enqueue_changes(model, changes, config)
        for using, ids in self.outboxed.items():
            run_recorded(ids, using, config)


_collecting = threading.local()
#: The batch of ``async_fanout.abatched()``: a context variable, so that the saves its
#: coroutine awaits see it in the ORM's thread, and other coroutines' saves do not.
collecting_async = contextvars.ContextVar("timak_fanout_batch", default=None)


def current_batch():
    """Return the batch collecting this save's fan-out (``batched()``'s, else ``abatched()``'s), or None."""
    return getattr(_collecting, "batch", None) or collecting_async.get()


@contextmanager
def batched():
    """Collect the fan-out of every save in the block; apply it, each key once per batch, at the end.

    For imports, seed scripts and other loops of saves: without it each save writes
    each of its keys (or enqueues a task). Changes of saves whose transaction rolled
    back are dropped, as ever; the rest are applied after the block (after the
    enclosing transaction, if there is one) even if the block raised.
    """
    if current_batch() is not None:
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


def run(model, operations: list[Operation], config: dict, down: dict | None = None) -> None:
    """Apply ``operations`` in batches of ``BATCH_SIZE`` keys, in this process.

    ``down`` carries the stores that already failed for this change (see ``apply_operations``).
    """
    down = {} if down is None else down
    for batch in batches(operations, config["BATCH_SIZE"]):
        apply_batch(model, batch, config["WORKERS"], down)


def enqueue_changes(model, changes: list[row_changes.RowChange], config: dict) -> None:
    """Enqueue one task that applies ``changes``, as many of them per task as an outbox drain batch.

    A task backend that refuses it counts as a failure of the operations the changes
    imply, computed here so that ``fanout_failed`` can name them.
    """
    from .tasks import apply_row_changes

    size = outbox_settings()["BATCH_SIZE"]
    for start in range(0, len(changes), size):
        chunk = changes[start : start + size]
        try:
            task = apply_row_changes.using(backend=config["TASK_BACKEND"], queue_name=config["TASK_QUEUE"])
            task.enqueue([change.to_dict() for change in chunk])
        except Exception as e:  # any task backend's error: the save must still succeed
            failed = [op for part in row_changes.PARTS for ops in row_changes.expand(chunk, part) for op in ops]
            if failed:
                report_failures(model, [(failed, e)])
            else:
                logger.error("timak: could not enqueue the fan-out of %s (%s)", model_label(model), e)
