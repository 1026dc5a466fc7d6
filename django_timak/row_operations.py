"""The timeline operations a row's save or delete implies.

Every operation of one save or delete carries the clock taken when it was computed,
so a later save of the same row always wins over it, however late it is applied.
"""

from .clock import default_clock
from .operations import ADD, DELETE, Operation
from .refs import make_ref


def save_operations(row, previous) -> list[Operation]:
    """Return the operations a save implies: add to current keys, delete from left ones."""
    modified = default_clock.now()
    current = row.timeline_memberships()
    ops = [Operation(t, key, ADD, i, s, d, modified) for (t, key), (i, s, d) in current.items()]
    if previous is not None:
        ref = make_ref(row)
        left = sorted(previous.timeline_keys() - set(current))
        ops.extend(Operation(t, key, DELETE, ref, None, None, modified) for t, key in left)
    return ops


def delete_operations(row) -> list[Operation]:
    """Return the operations a delete implies: delete from every key the row belonged to."""
    modified = default_clock.now()
    ref = make_ref(row)
    keys = row.timeline_keys()
    previous = row._timak_previous()
    if previous is not None:
        keys |= previous.timeline_keys()
    return [Operation(t, key, DELETE, ref, None, None, modified) for t, key in sorted(keys)]
