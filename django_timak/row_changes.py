"""Row changes: what deferred fan-out records at save time, and a worker's expansion of them.

With the outbox or ``RUN = "task"``, a save or delete does a bounded amount of work
whatever the row's audience: it records a ``RowChange`` per timeline alias (the
row's model and pk, the action, the clock taken once the database wrote the row)
with only what a worker could no longer compute: the previous version of a saved
row whose fields changed (a row deleted before the worker runs cannot supply it, so
the whole previous version is kept, one row's fields), and the keys of a deleted row
(its relations, its recipients among them, may go with it). A worker loads the rows,
computes keys and recipients (``recipients_many`` once per model and batch) and
stamps every operation with the recorded clock. Whichever later state of the row it
reads, a later change of that row carries a greater clock and its own record, so a
change applied late or twice never undoes a later one.
"""

from dataclasses import asdict, dataclass
from typing import Any

from django.apps import apps

from .operations import ADD, DELETE, Operation, apply_batch, batches
from .refs import SEPARATOR, model_label
from .row_operations import computed, keys_again, row_item, storable

SAVE = "save"


@dataclass(frozen=True)
class RowChange:
    """A save or delete of one row, for the fields of one timeline alias, at ``clock``."""

    timeline: str
    model: str
    pk: str
    action: str
    clock: int
    #: ``{attname: value as a string, or None}``: the row before a save that changed it,
    #: or the row a delete removed.
    previous: dict | None = None
    #: The keys of a deleted row, computed before it went.
    keys: list | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict) -> "RowChange":
        return cls(**value)


def saved(row, previous, alias: str, clock: int) -> RowChange:
    """Return the change a save of ``row`` records (``previous``: the row before it, if it changed)."""
    snapshot = None if previous is None else _values(previous)
    return RowChange(alias, model_label(type(row)), _pk_string(row), SAVE, clock, previous=snapshot)


def deleted(row, keys, alias: str, clock: int) -> RowChange:
    """Return the change a delete of ``row`` records: the ``(alias, key)`` pairs it belonged to, and the row."""
    keys = [k for a, k in keys if a == alias]
    return RowChange(alias, model_label(type(row)), _pk_string(row), DELETE, clock, previous=_values(row), keys=keys)


def _values(row) -> dict:
    loaded = row.__dict__
    return {
        f.attname: None if loaded[f.attname] is None else f.value_to_string(row)
        for f in row._meta.concrete_fields
        if f.attname in loaded
    }


def _pk_string(row) -> str:
    return row._meta.pk.value_to_string(row)


#: The two parts of a change, expanded and applied in this order: the keys the row makes
#: alone (its author's own timeline), then the keys of its recipients. Recipients are
#: resolved only once the row's own keys are written, so a follow that commits in
#: between either is among them or finds the change in the keys its backfill copies.
OWN, AUDIENCE = "own", "audience"
PARTS = (OWN, AUDIENCE)


def expand(changes: list[RowChange], part: str) -> list[list[Operation]]:
    """Return the operations of one part of each change, in order, computed from the rows as they are now.

    Rows are loaded with one query per model; a key or recipients callable that
    raises is reported, and its change expands to what could be computed.
    """
    by_model = {}
    for change in changes:
        by_model.setdefault(change.model, []).append(change)
    expanded = {}
    for label, model_changes in by_model.items():
        expanded.update(_expand_model(apps.get_model(label), model_changes, part))
    return [expanded[id(change)] for change in changes]


def apply(changes: list[RowChange], batch_size: int, workers: int) -> int:
    """Expand ``changes`` and append their operations, ``batch_size`` keys a batch; return the keys that failed."""
    failed = 0
    down = {}  # a store that fails on the rows' own keys is not waited for again
    for part in PARTS:
        by_model = {}
        for change, ops in zip(changes, expand(changes, part)):
            by_model.setdefault(change.model, []).extend(ops)
        failed += sum(
            apply_batch(apps.get_model(label), batch, workers, down)
            for label, operations in by_model.items()
            for batch in batches(operations, batch_size)
        )
    return failed


def _expand_model(model, changes, part):
    pk_field = model._meta.pk
    saves = [c for c in changes if c.action == SAVE]
    rows = model._base_manager.in_bulk([pk_field.to_python(c.pk) for c in saves]) if saves else {}
    found = {}
    for alias in {c.timeline for c in changes}:
        aliased = [f for f in model._timak_fields if f.timeline == alias]
        own = [f for f in aliased if f.recipients is None]
        fields = own if part == OWN else [f for f in aliased if f.recipients is not None]
        current_keys = {field: _keys_many(model, field, list(rows.values())) for field in fields}
        for change in changes:
            if change.timeline != alias:
                continue
            if change.action == DELETE:
                found[id(change)] = storable(_ref(change), _deletes(change, _deleted_keys(model, change, own, fields, part)))
                continue
            pk = pk_field.to_python(change.pk)
            row = rows.get(pk)
            ops = []
            for field in fields:
                keys = current_keys[field].get(pk, [])
                item = computed(model, row, row_item, field) if keys else None
                if item:
                    item_id, score, data, actor = item
                    ops.extend(Operation(alias, key, ADD, item_id, score, data, change.clock, actor) for key in keys)
            if change.previous is not None:
                before = _previous_row(model, change, row)
                left = {key for field in fields for key in computed(model, before, field.keys)} - {op.key for op in ops}
                ops.extend(_deletes(change, sorted(left)))
            found[id(change)] = storable(_ref(change), ops)
    return found


def _deleted_keys(model, change, own, fields, part) -> list[str]:
    """Return the keys a delete removes the row from, in one part of the change.

    Its own keys come from the recorded row alone. Its recipients are looked up again
    now, after its own keys were written (the row is gone, but the relations its
    recipients come from mostly are not), and joined with those recorded before it went.
    """
    if change.previous is None:  # recorded before deletes kept the row: every key in one part
        return change.keys if part == OWN else []
    row = _previous_row(model, change, None)
    own_keys = {key for field in own for key in keys_again(lambda f=field: f.keys(row))}
    if part == OWN:
        return [key for key in change.keys if key in own_keys]
    again = {key for field in fields for key in keys_again(lambda f=field: f.keys(row))}
    return sorted({key for key in change.keys if key not in own_keys} | again)


def _ref(change) -> str:
    return f"{change.model}{SEPARATOR}{change.pk}"


def _deletes(change, keys):
    return [Operation(change.timeline, key, DELETE, _ref(change), None, None, change.clock) for key in keys]


def _previous_row(model, change, current):
    """Return the row as it was before the change's save: the recorded values over the current ones.

    Values go to ``from_db`` in the model's field order, whatever order the recorded
    JSON kept (PostgreSQL's jsonb sorts its keys).
    """
    fields = {f.attname: f for f in model._meta.concrete_fields}
    values = {name: None if value is None else fields[name].to_python(value) for name, value in change.previous.items()}
    if current is not None:
        values = {name: values.get(name, getattr(current, name)) for name in fields}
    names = [name for name in fields if name in values]
    return model.from_db(current._state.db if current is not None else None, names, [values[name] for name in names])


def _keys_many(model, field, rows) -> dict:
    """Return ``{row.pk: keys}``; a callable that raises costs only the rows it raises on."""
    try:
        return field.keys_many(rows)
    except Exception:  # user code: one row at a time, so only the rows that fail are reported
        return {row.pk: keys for row in rows if (keys := computed(model, row, field.keys))}
