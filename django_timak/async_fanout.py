"""Fan-out for saves made in async code: ``async with abatched(): await post.asave()``.

``await post.asave()`` alone fans out as a sync save does, in Django's ORM thread,
which then waits on the store. Inside ``abatched()`` the fan-out of every save and
delete the block awaits is collected instead (as ``fanout.batched()`` collects it)
and applied when the block ends, each key once: the appends are awaited with the
store's native async calls (``Timeline.aappend_changes``: on Riak no thread waits),
and a failure never fails the block, it is logged and sent as ``fanout_failed``, as
ever. The batch lives in a context variable: the block's own saves see it in the ORM
thread, other coroutines' saves do not.

Every mode works: inline fan-out is awaited natively; row changes for tasks are
enqueued, and outbox rows delivered (``RUN = "inline"``) or handed to a drain task,
by the sync code, in the ORM thread, since they are database work. Django's async
ORM cannot hold a transaction across awaits, so each save commits on its own and a
save that raised leaves no trace.
"""

from contextlib import asynccontextmanager

from asgiref.sync import sync_to_async

from . import fanout
from .conf import fanout_settings
from .handler import timelines
from .operations import batches, group, report_failures, store_failed


@asynccontextmanager
async def abatched():
    """Collect the fan-out of every save the block awaits; apply it at the end, each key once.

    Nested in another batch (async or not), the block adds to it.
    """
    if fanout.current_batch() is not None:
        yield
        return
    batch = fanout._Batch()
    token = fanout.collecting_async.set(batch)
    try:
        yield
    finally:
        fanout.collecting_async.reset(token)
        await aflush(batch)


async def aflush(batch) -> None:
    """Apply a collected batch: inline operations awaited, tasks and outbox rows handed on in the ORM thread."""
    config = await sync_to_async(fanout_settings)()
    for model, operations in batch.direct.items():
        await arun(model, operations, config)
    if batch.queued or batch.outboxed:
        await sync_to_async(_hand_on)(batch, config)


def _hand_on(batch, config):
    for model, changes in batch.queued.items():
        fanout.enqueue_changes(model, changes, config)
    for using, ids in batch.outboxed.items():
        fanout.run_recorded(ids, using, config)


async def arun(model, operations, config) -> int:
    """Append ``operations`` in batches of ``BATCH_SIZE`` keys, awaited; report failures; return how many keys failed.

    As the sync fan-out: once a store fails, its keys in later batches fail at once;
    an error that is not the store's (a bad value) is retried key by key, to fail
    only its key.
    """
    down, failures = {}, []
    for chunk in batches(operations, config["BATCH_SIZE"]):
        by_alias = {}
        for (alias, key), ops in group(chunk).items():
            by_alias.setdefault(alias, {})[key] = ops
        for alias, keyed in by_alias.items():
            if alias in down:
                failures.extend((ops, down[alias]) for ops in keyed.values())
                continue
            failed = await _append(alias, keyed)
            if failed and not store_failed(failed) and len(keyed) > 1:
                for key, ops in keyed.items():
                    error = await _append(alias, {key: ops})
                    if error is not None:
                        failures.append((ops, error))
                continue
            if failed:
                failures.extend((ops, failed) for ops in keyed.values())
                if store_failed(failed):
                    down[alias] = failed
    if failures:
        # fanout_failed receivers may use the ORM: they run in its thread.
        await sync_to_async(report_failures)(model, failures)
    return len(failures)


async def _append(alias, keyed):
    """Append each key's operations as one value; return the error, or None."""
    try:
        await timelines[alias].aappend_changes({key: [op.entry() for op in ops] for key, ops in keyed.items()})
    except Exception as e:  # a store error, a bad key or value: keep going, report it
        return e
    return None
