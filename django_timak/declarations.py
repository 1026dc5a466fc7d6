"""Declaring the timelines a model's rows belong to: ``TimelineMixin`` and ``TimelineField``.

A ``TimelineField`` adds no column: it names a key template, a score field and,
optionally, recipients, a condition and data. ``TimelineMixin`` marks the models
whose timelines are kept current, and tells which keys a row belongs to; the signal
receivers (``receivers``, connected with ``sender=`` each model when the app is
ready) turn saves and deletes into operations (``row_operations``) for ``fanout``.
This module imports none of them, so declaring a model loads no delivery code.

Which keys a row belonged to before a save is known without a query: the row's
field values are remembered when it is loaded or saved (like django-model-utils'
FieldTracker), and the previous version is rebuilt from them when any has changed.
"""

import copy
import json
import string
from functools import partial

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model

from . import codecs, groups
from .aliases import lazy_names
from .exceptions import InvalidData
from .refs import SEPARATOR, make_ref, model_label
from .inputs import to_score

#: Names that lived here before django_timak.row_operations.
__getattr__ = lazy_names(
    __name__,
    {"save_operations": "django_timak.row_operations", "delete_operations": "django_timak.row_operations"},
)

RECIPIENT = "recipient"


def _placeholders(key: str) -> tuple[str, ...]:
    """Return the attribute names a key template reads, in order, without repeats."""
    try:
        parsed = list(string.Formatter().parse(key))
    except ValueError as e:
        raise ValueError(f"TimelineField key {key!r} is not a valid template: {e}") from e
    names = []
    for _, field_name, _, _ in parsed:
        if field_name is None:
            continue
        root = field_name.split(".", 1)[0].split("[", 1)[0]
        if not root or root.isdigit():
            raise ValueError(f"TimelineField key {key!r}: every placeholder must name an attribute, as in {{author_id}}")
        if root not in names:
            names.append(root)
    return tuple(names)


class TimelineField:
    """A timeline the rows of a ``TimelineMixin`` model belong to.

    ``key`` is a ``str.format`` template over the row's attributes; ``{recipient}``
    takes each value ``recipients(row)`` returns, so one row fans out to many keys.
    ``recipients_many(rows)``, its bulk form, returns ``{row.pk: recipients}`` for
    many rows in a few queries; workers and ``rebuild_timelines`` call it once per
    batch (a row it leaves out has none), and a field with only this form serves a
    single row through it. ``score`` names a date, datetime or number field.
    ``condition(row)`` decides whether the row belongs at all, ``data(row)`` is
    stored with the item, and ``timeline`` names an alias of ``TIMAK_TIMELINES``.
    ``pull(row)`` (a callable, or ``pull.PullAbove``) picks rows that are not
    written to this field's keys: they stay in the key template ``pull_from``, which
    another field fills, and readers merge it into their pages (see ``pull``).
    ``actor`` names who a row is by: a foreign key's name (its reference is read from
    ``<name>_id``, without a query), or a callable returning a row or a reference. It
    is stored in each entry (``Entry.actor``), so reads can leave out an actor's items
    (``exclude_actors=``) and ``erase_actor`` can find them without hydrating rows.
    ``group(row)`` makes the timeline aggregated: rows with the same group id become
    one entry holding their distinct ``actor``s and the ``target`` they share (see ``groups``).
    """

    def __init__(
        self, key, *, score, data=None, recipients=None, recipients_many=None, condition=None, timeline="default",
        pull=None, pull_from=None, group=None, actor=None, target=None, encoder=None,
    ):
        if not isinstance(key, str):
            raise TypeError(f"TimelineField key must be a str template, not {type(key).__name__}")
        if not isinstance(score, str):
            raise TypeError(f"TimelineField score must name a field, not {type(score).__name__}")
        if not isinstance(timeline, str):
            raise TypeError(f"TimelineField timeline must name a TIMAK_TIMELINES alias, not {type(timeline).__name__}")
        for name, value in (("data", data), ("recipients", recipients), ("condition", condition)):
            if value is not None and not callable(value):
                raise TypeError(f"TimelineField {name} must be a callable taking the row, not {value!r}")
        if recipients_many is not None and not callable(recipients_many):
            raise TypeError(f"TimelineField recipients_many must be a callable taking a list of rows, not {recipients_many!r}")
        if recipients is None and recipients_many is not None:
            recipients = partial(_recipients_of_one, recipients_many)
        if group is not None and not callable(group):
            raise TypeError(f"TimelineField group must be a callable returning the row's group id, not {group!r}")
        if group is not None and actor is None:
            raise TypeError("TimelineField group needs actor: a foreign key's name, or a callable taking the row")
        for name, value in (("actor", actor), ("target", target)):
            if value is not None and not (isinstance(value, str) or callable(value)):
                raise TypeError(f"TimelineField {name} must name a foreign key or be a callable, not {value!r}")
        if encoder is not None and not (isinstance(encoder, type) and issubclass(encoder, json.JSONEncoder)):
            raise TypeError(f"TimelineField encoder must be a json.JSONEncoder subclass, not {encoder!r}")
        self.key = key
        self.score = score
        self.data = data
        self.encoder = encoder
        self.recipients = recipients
        self.recipients_many = recipients_many
        self.condition = condition
        self.timeline = timeline
        self.pull = pull
        self.pull_from = pull_from
        self.group = group
        self.actor = actor
        self.target = target
        self.placeholders = _placeholders(key)
        self._named = tuple(name for name in self.placeholders if name != RECIPIENT)
        self.name = None

    def __repr__(self):
        return f"<TimelineField {self.name or '?'} {self.timeline}:{self.key!r}>"

    def contribute_to_class(self, cls, name):
        self.name = name
        setattr(cls, name, self)

    def belongs(self, row) -> bool:
        """Return True if ``row`` belongs to this timeline (condition holds, score is set)."""
        if self.condition is not None and not self.condition(row):
            return False
        return getattr(row, self.score) is not None

    def pulled(self, row) -> bool:
        """Return True if ``row`` is left in its ``pull_from`` key rather than written to this field's keys."""
        return self.pull is not None and bool(self.pull(row))

    def keys(self, row) -> list[str]:
        """Return the keys ``row`` belongs to, without repeats (none if it does not belong, or is pulled)."""
        if not self.belongs(row) or self.pulled(row):
            return []
        recipients = (None,) if self.recipients is None else self.recipients(row)
        return list(dict.fromkeys(self.format_key(self.key_values(row), r) for r in recipients))

    def keys_many(self, rows) -> dict:
        """Return ``{row.pk: keys}`` for the ``rows`` that belong, asking ``recipients_many`` once."""
        return {
            pk: list(dict.fromkeys(self.format_key(values, r) for r in recipients))
            for pk, (values, recipients) in self.key_parts_many(rows).items()
        }

    def key_parts_many(self, rows) -> dict:
        """Return ``{row.pk: (values, recipients)}`` for the ``rows`` that belong: what their keys are made of.

        ``values`` are the row's placeholders but the recipient (``key_values``);
        ``recipients`` is ``(None,)`` for a field without any. A caller meeting the
        same parts again and again (a rebuild: authors repeat, their keys fill) can
        look them up without formatting a key each time (``format_key``).
        """
        belonging = [row for row in rows if self.belongs(row) and not self.pulled(row)]
        if self.recipients is None:
            return {row.pk: (self.key_values(row), (None,)) for row in belonging}
        if self.recipients_many is None:
            return {row.pk: (self.key_values(row), self.recipients(row)) for row in belonging}
        found = self.recipients_many(belonging)
        return {row.pk: (self.key_values(row), found.get(row.pk, ())) for row in belonging}

    def key_values(self, row) -> tuple:
        """Return the values of the key's placeholders but ``{recipient}``, in template order."""
        return tuple(getattr(row, name) for name in self._named)

    def format_key(self, values, recipient=None) -> str:
        """Return the key of ``key_values`` and one recipient (ignored by a field without recipients)."""
        named = dict(zip(self._named, values))
        if self.recipients is None:
            return self.key.format(**named)
        return self.key.format(recipient=recipient, **named)

    def item(self, row) -> tuple:
        """Return the ``(id, score, data)`` this field stores for ``row``: for a grouped field, a group's change."""
        return self.item_with_actor(row)[:3]

    def item_with_actor(self, row) -> tuple:
        """Return ``(id, score, data, actor)`` for ``row``; a group's actors are its members', so its actor is None."""
        data = self.stored_data(row)
        if self.group is None:
            return make_ref(row), to_score(getattr(row, self.score)), data, self.actor_of(row)
        info = {"target": _reference(row, self.target), "data": data}
        change = groups.change(make_ref(row), _reference(row, self.actor), info)
        return str(self.group(row)), to_score(getattr(row, self.score)), change, None

    def actor_of(self, row):
        """Return the reference of who ``row`` is by, or None (no ``actor``, or a null foreign key)."""
        return _reference(row, self.actor)

    def actor_model(self, model):
        """Return the model ``actor`` names by a foreign key of ``model``, or None (a callable, or no actor)."""
        if not isinstance(self.actor, str):
            return None
        try:
            related = model._meta.get_field(self.actor).related_model
        except FieldDoesNotExist:  # django_timak.E026
            return None
        return related._meta.concrete_model if isinstance(related, type) else None

    def stored_data(self, row):
        """Return ``data(row)`` as it reads back (through ``encoder``, if any); raise InvalidData naming the row.

        With an encoder (``DjangoJSONEncoder``) the value is encoded and decoded here,
        so a datetime becomes the string a read returns, never one thing before and
        another after the write.
        """
        if not self.data:
            return None
        data = self.data(row)
        try:
            if self.encoder is None:
                codecs.dumps_data(data)
                return data
            return json.loads(json.dumps(data, cls=self.encoder, allow_nan=False))
        except (TypeError, ValueError) as e:  # InvalidData is a TypeError
            raise InvalidData(
                f"{model_label(type(row))} pk={row.pk!r}, TimelineField {self.name!r}: its data cannot be stored: {e}"
                + ("" if self.encoder else " (encoder=DjangoJSONEncoder stores datetimes, decimals and UUIDs as strings)")
            ) from e


def _reference(row, spec):
    """Return the reference ``spec`` gives for ``row``: a foreign key's (read without a query), or a callable's."""
    if spec is None:
        return None
    if isinstance(spec, str):
        field = row._meta.get_field(spec)
        value = getattr(row, field.attname)
        return None if value is None else f"{model_label(field.related_model)}{SEPARATOR}{value}"
    found = spec(row)
    return make_ref(found) if isinstance(found, Model) else found


def _recipients_of_one(recipients_many, row):
    """Return one row's recipients through the bulk form."""
    return recipients_many([row]).get(row.pk, ())


def declared_fields(cls) -> tuple[TimelineField, ...]:
    """Return the TimelineFields a class declares or inherits, in declaration order."""
    found = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, TimelineField):
                found[name] = value
            elif name in found:
                del found[name]  # a subclass replaced the field (e.g. with None)
    return tuple(found.values())


def _freeze(value):
    """Return a copy of mutable field values (JSONField), so later in-place edits show."""
    return copy.deepcopy(value) if isinstance(value, (dict, list, set)) else value


class TimelineMixin:
    """Keep the model's ``TimelineField``s current on save and delete, after commit.

    ``QuerySet.update()``, ``bulk_create()`` and fixture loading send no per-row
    signals; run ``rebuild_timelines`` after them.
    """

    @classmethod
    def timeline_fields(cls) -> tuple[TimelineField, ...]:
        """Return the model's TimelineFields, inherited ones included."""
        return declared_fields(cls)

    @classmethod
    def get_timeline_queryset(cls):
        """Return the queryset timeline pages are read from; override to ``select_related``."""
        return cls._default_manager.all()

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self._timak_remember()

    def _timak_values(self) -> dict:
        loaded = self.__dict__
        return {f.attname: loaded[f.attname] for f in self._meta.concrete_fields if f.attname in loaded}

    def _timak_remember(self) -> None:
        self._timak_saved = {name: _freeze(value) for name, value in self._timak_values().items()}

    def _timak_previous(self):
        """Return the row as it was loaded or last saved, or None if no field changed since.

        Fields deferred when the row was loaded are taken as unchanged.
        """
        saved = getattr(self, "_timak_saved", None)
        if not saved:
            return None
        current = self._timak_values()
        if all(current.get(name) == value for name, value in saved.items()):
            return None
        return type(self).from_db(self._state.db, list(saved), list(saved.values()))

    def timeline_memberships(self, fields=None) -> dict:
        """Return ``{(timeline, key): (id, score, data, actor)}`` for every key the row belongs to (of ``fields``)."""
        found = {}
        for field in self._timak_fields if fields is None else fields:
            keys = field.keys(self)
            if keys:
                item = field.item_with_actor(self)
                found.update(((field.timeline, key), item) for key in keys)
        return found

    def timeline_keys(self, fields=None) -> set:
        """Return ``{(timeline, key)}`` the row belongs to, of ``fields`` (by default all; no data computed)."""
        return {(field.timeline, key) for field in (self._timak_fields if fields is None else fields) for key in field.keys(self)}
