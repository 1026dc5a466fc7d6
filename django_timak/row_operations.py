"""The timeline operations a row's save or delete implies.

Every operation of one save or delete carries the clock taken once the database has
written the row (after the UPDATE, INSERT or DELETE, which holds the row until the
transaction ends), so a later save of the same row always wins over it, however
late it is applied, and a delete stamps after any backfill or rebuild that could
still read the row before it.
"""

import logging

from .exceptions import InvalidData
from .operations import ADD, DELETE, Operation, split_storable
from .refs import make_ref
from .signals import fanout_failed

logger = logging.getLogger("django_timak")


def save_operations(row, previous, clock: int, fields=None) -> list[Operation]:
    """Return the operations a save implies (of ``fields``): add to current keys, delete from left ones.

    A field whose data cannot be stored skips the row on its keys (see ``row_item``):
    neither added there nor taken off them.
    """
    current, skipped = {}, set()
    for field in row._timak_fields if fields is None else fields:
        keys = [(field.timeline, key) for key in field.keys(row)]
        item = row_item(row, field) if keys else None
        if item is None:
            skipped.update(keys)
        else:
            current.update((pair, item) for pair in keys)
    ops = [Operation(t, key, ADD, i, s, d, clock, a) for (t, key), (i, s, d, a) in current.items()]
    if previous is not None:
        ref = make_ref(row)
        left = sorted(previous.timeline_keys(fields) - set(current) - skipped)
        ops.extend(Operation(t, key, DELETE, ref, None, None, clock) for t, key in left)
    return storable(make_ref(row), ops)


def row_item(row, field):
    """Return ``field.item_with_actor(row)``, or None for a row whose data cannot be stored.

    One bad row must not block the good items it shares keys with (a batch, a
    rebuild): it is skipped, logged by name and sent as ``fanout_failed``.
    """
    try:
        return field.item_with_actor(row)
    except InvalidData as e:
        logger.error("timak: skipped %s: %s", make_ref(row), e, exc_info=e)
        fanout_failed.send(sender=type(row), operations=[], exception=e)
        return None


def delete_keys(row) -> list[tuple[str, str]]:
    """Return ``[(timeline, key)]`` the row belongs to; call it before the row goes (recipients)."""
    keys = row.timeline_keys()
    previous = row._timak_previous()
    if previous is not None:
        keys |= previous.timeline_keys()
    return sorted(keys)


def delete_operations(row, keys, clock: int) -> list[Operation]:
    """Return the operations a delete implies: delete from ``keys`` (see ``delete_keys``)."""
    ref = make_ref(row)
    return storable(ref, [Operation(t, key, DELETE, ref, None, None, clock) for t, key in keys])


def storable(ref: str, operations) -> list[Operation]:
    """Return the operations whose key can be stored; name the others in one warning."""
    kept, skipped = split_storable(operations)
    if skipped:
        logger.warning(
            "timak: %s skipped %d timeline key(s) that cannot be stored (too long, or control characters): %s",
            ref,
            len(skipped),
            ", ".join(f"{op.timeline}:{op.key!r}" for op in skipped),
        )
    return kept


def computed(model, row, compute, *args):
    """Return ``compute(row, *args)``; if it raises, report it and return nothing.

    A key template or a recipients callable that fails on this row must not fail
    the save, whose row has already been written: it is logged and sent as
    ``fanout_failed``, like a store that failed.
    """
    try:
        return compute(row, *args)
    except Exception as e:  # user code: a key template, recipients, condition or data callable
        logger.error(
            "timak: the timelines of %s could not be computed (%s: %s); fix its TimelineField, then run rebuild_timelines",
            make_ref(row), type(e).__name__, e, exc_info=e,
        )
        fanout_failed.send(sender=model, operations=[], exception=e)
        return []


def keys_again(compute) -> set:
    """Return the keys ``compute()`` finds, or none if it raises.

    For a second look at a deleted row's keys, whose first look was recorded before it
    went: user code on it may fail now that its own relations went with it.
    """
    try:
        return set(compute())
    except Exception:  # user code: a key template or recipients callable
        return set()
