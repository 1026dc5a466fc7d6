"""Turn a page of timeline entries back into model instances.

One query per model on the page (``in_bulk``), whatever the page size; timeline
order is kept; rows that no longer exist are skipped. Entries that are not row
references come back as their value (data, else id), as ``Timeline.get`` shows them.
A model can shape its query (``select_related``...) with ``get_timeline_queryset()``.
"""

from .refs import parse_ref


def _queryset(model):
    getter = getattr(model, "get_timeline_queryset", None)
    return getter() if getter is not None else model._default_manager.all()


def hydrate_pairs(entries) -> list[tuple]:
    """Return ``[(entry, item)]``: item is the row for a reference, else the entry's value."""
    parsed = [parse_ref(entry.id) for entry in entries]
    wanted = {}
    for ref in parsed:
        if ref is not None:
            wanted.setdefault(ref[0], set()).add(ref[1])
    found = {model: _queryset(model).in_bulk(pks) for model, pks in wanted.items()}
    pairs = []
    for entry, ref in zip(entries, parsed):
        if ref is None:
            pairs.append((entry, entry.value))
        elif ref[1] in found[ref[0]]:
            pairs.append((entry, found[ref[0]][ref[1]]))
    return pairs


def hydrate(entries) -> list:
    """Return the items of ``entries`` in order: instances for references, else values."""
    return [item for _, item in hydrate_pairs(entries)]
