"""The timeline operations a row's save or delete implies.

Every operation of one save or delete carries the clock taken once the database has
written the row (after the UPDATE, INSERT or DELETE, which holds the row until the
transaction ends), so a later save of the same row always wins over it, however
late it is applied, and a delete stamps after any backfill or rebuild that could
still read the row before it.
"""

import logging

from .clock import default_clock
from .operations import ADD, DELETE, Operation, split_storable
from .refs import make_ref

logger = logging.getLogger("django_timak")


def save_operations(row, previous) -> list[Operation]:
    """Return the operations a save implies: add to current keys, delete from left ones."""
    modified = default_clock.now()
    current = row.timeline_memberships()
    ops = [Operation(t, key, ADD, i, s, d, modified) for (t, key), (i, s, d) in current.items()]
    if previous is not None:
        ref = make_ref(row)
        left = sorted(previous.timeline_keys() - set(current))
        ops.extend(Operation(t, key, DELETE, ref, None, None, modified) for t, key in left)
    return storable(row, ops)


def delete_keys(row) -> list[tuple[str, str]]:
    """Return ``[(timeline, key)]`` the row belongs to; call it before the row goes (recipients)."""
    keys = row.timeline_keys()
    previous = row._timak_previous()
    if previous is not None:
        keys |= previous.timeline_keys()
    return sorted(keys)


def delete_operations(row, keys) -> list[Operation]:
    """Return the operations a delete implies: delete from ``keys`` (see ``delete_keys``)."""
    modified = default_clock.now()
    ref = make_ref(row)
    return storable(row, [Operation(t, key, DELETE, ref, None, None, modified) for t, key in keys])


def storable(row, operations) -> list[Operation]:
    """Return the operations whose key can be stored; name the others in one warning."""
    kept, skipped = split_storable(operations)
    if skipped:
        logger.warning(
            "timak: %s skipped %d timeline key(s) that cannot be stored (too long, or control characters): %s",
            make_ref(row),
            len(skipped),
            ", ".join(f"{op.timeline}:{op.key!r}" for op in skipped),
        )
    return kept
