"""Timeline operations, and the one place that applies them to the stores.

An ``Operation`` adds an item to, or deletes it from, one key, stamped with the
clock of the save that implied it. Fan-out, the outbox and ``rebuild_timelines``
all apply operations here: grouped per alias and key, and appended without reading
(``Timeline.append_changes``: one small value per key beside what it holds, every
change keeping its own clock), in one call per alias, or a few concurrent ones for
a networked store, and without waiting on a store again once it has failed in this
call.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from .backends.base import BaseBackend
from .entries import Entry, tombstone
from .exceptions import InvalidKey, TimelineBackendError, TimelineConfigError
from .handler import timelines
from .inputs import check_key
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
    actor: str | int | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict) -> "Operation":
        return cls(**value)

    def entry(self) -> Entry:
        """Return the change as an ``Entry`` (a tombstone for a delete)."""
        if self.action == DELETE:
            return tombstone(self.id, self.modified, self.score or 0)
        return Entry(self.id, self.score, self.modified, self.data, False, self.actor)


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
    """Return ``{(timeline, key): [Operation]}``, in first-seen order: one append each."""
    groups = {}
    for op in operations:
        groups.setdefault((op.timeline, op.key), []).append(op)
    return groups


def batches(operations, size: int) -> list[list[Operation]]:
    """Split ``operations`` into batches of at most ``size`` keys."""
    groups = list(group(operations).values())
    return [[op for g in groups[i : i + size] for op in g] for i in range(0, len(groups), size)]


def write(alias: str, groups: list[list[Operation]]) -> None:
    """Append a chunk of groups (each one key's operations) to ``alias``'s store, reading nothing.

    One row's change fanned out to many keys becomes one ``Entry``, shared, so the
    timeline validates it once.
    """
    entries = {}
    changes = {}
    for ops in groups:
        shared = []
        for op in ops:
            same = (op.id, op.action, op.score, op.modified, id(op.data), op.actor)
            entry = entries.get(same)
            if entry is None:
                entry = entries[same] = op.entry()
            shared.append(entry)
        changes[ops[0].key] = shared
    timelines[alias].append_changes(changes)


def store_failed(error) -> bool:
    """Return True for an error of the store or its alias, which every key of it would meet."""
    return isinstance(error, (TimelineBackendError, TimelineConfigError))


def _concurrent_calls(alias, workers) -> int:
    """Return how many append calls to run at once on ``alias``'s store.

    A networked store whose ``append_many`` loops over its keys gets ``workers``
    calls; one that appends concurrently itself (Riak, over its pool) gets one, so
    that the threads never outnumber its connections.
    """
    try:
        backend = timelines[alias].backend
    except TimelineConfigError:
        return 1
    if backend.networked and type(backend).append_many is BaseBackend.append_many:
        return workers
    return 1


def _chunks(groups, count):
    """Split ``groups`` into at most ``count`` chunks of nearly equal size, in order."""
    size = -(-len(groups) // max(count, 1))
    return [groups[i : i + size] for i in range(0, len(groups), size)]


def _apply_alias(alias, groups, workers, down):
    """Append ``groups`` (each one key's operations) to one alias; return ``[(group, error)]`` of the keys that failed."""
    return _append_chunked(alias, groups, lambda chunk: write(alias, chunk), workers, down)


def append_entries(alias: str, changes: dict, workers: int, down: dict | None = None) -> list[tuple[str, Exception]]:
    """Append ``{key: [Entry]}`` to one alias, as ``apply_operations`` does; return ``[(key, error)]`` of the keys that failed.

    For callers that hold entries, not operations (``rebuild_timelines``): an entry
    shared by keys is validated once per call.
    """
    return _append_chunked(
        alias, list(changes), lambda keys: timelines[alias].append_changes({key: changes[key] for key in keys}), workers, down
    )


def _append_chunked(alias, items, write_chunk, workers, down):
    """Write ``items`` (one key each) with ``write_chunk``; return ``[(item, error)]`` of the keys that failed.

    A networked store that loops over its keys gets ``workers`` concurrent calls,
    one chunk of keys each (see ``_concurrent_calls``), so a store that is down is
    waited for once per concurrent call. An error that is not the store's (a bad
    value) is retried key by key, to fail only its key. ``down`` (``{alias: error}``)
    records a store that failed: its keys, here and in later calls, fail at once.
    """
    down = {} if down is None else down
    if alias in down:
        return [(item, down[alias]) for item in items]

    def attempt(chunk):
        try:
            write_chunk(chunk)
        except Exception as e:  # a store error, a bad key or value: keep going, report it
            return e
        return None

    chunks = _chunks(items, _concurrent_calls(alias, workers))
    if len(chunks) > 1:
        with ThreadPoolExecutor(max_workers=len(chunks), thread_name_prefix="timak-fanout") as pool:
            errors = list(pool.map(attempt, chunks))
    else:
        errors = [attempt(chunk) for chunk in chunks]
    failures = []
    for chunk, error in zip(chunks, errors):
        if error is None:
            continue
        if store_failed(error) or len(chunk) == 1:
            failures.extend((item, error) for item in chunk)
            continue
        failures.extend((item, e) for item in chunk if (e := attempt([item])) is not None)
    down.update((alias, error) for _, error in failures if store_failed(error))
    return failures


def apply_operations(operations, workers: int, down: dict | None = None) -> list[tuple[list[Operation], Exception]]:
    """Append ``operations``, grouped per alias and key; return the failed groups with their errors.

    Nothing is read: each key receives its changes as one small appended value, which
    the next read merges. Keys of a networked store are appended ``workers`` calls at
    a time; once a store fails in a call, its other keys in that call fail with it.
    ``down`` (``{alias: error}``), shared by the calls of one change, records the
    stores that failed, and their keys fail at once in the calls that follow.
    """
    down = {} if down is None else down
    by_alias = {}
    for (alias, _), ops in group(operations).items():
        by_alias.setdefault(alias, []).append(ops)
    failures = []
    for alias, groups in by_alias.items():
        failures.extend(_apply_alias(alias, groups, workers, down))
    return failures


def apply_batch(model, batch: list[Operation], workers: int, down: dict | None = None) -> int:
    """Apply one fan-out batch of ``model``'s rows; report failures; return how many keys failed."""
    failures = apply_operations(batch, workers, down)
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
