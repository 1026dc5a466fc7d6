"""The signal receivers that keep a ``TimelineMixin`` model's timelines current.

Each model is wired with ``sender=`` itself and a ``dispatch_uid``, so no receiver
runs for other models' saves: the installed models when the app is ready, models
created later (tests, dynamic models) as they are prepared.

A ``delete()`` sends every ``pre_delete`` of the rows it cascades to, then every
``post_delete``, inside one transaction. The deletes of one cascade are counted in
and out (a ``Cascade`` per database and thread) and fanned out together once the
last row is gone, as inside ``fanout.batched()``: each key is appended once, not
once per row. A cascade whose transaction ended before its last row (the delete
failed and rolled back) is dropped at the next delete, with what it held.

Deleting an actor (a row some ``TimelineField(actor=...)`` names by its foreign key,
a user) erases it after commit (``erasure.erase_actor``): its items leave every page
at once. The rows of its cascade whose every field names it as their actor are then
not fanned out at all (the erasure covers each copy), so the request costs the same
however much they posted and however many follow them.
"""

import threading

from django.apps import apps
from django.db import connections, transaction
from django.db.models.signals import class_prepared, post_delete, post_init, post_save, pre_delete

import logging
from functools import partial

from django.db.models import Model, QuerySet

from . import fanout
from .declarations import TimelineMixin
from .refs import make_ref, model_label
from .row_operations import computed, delete_keys

logger = logging.getLogger("django_timak")

#: The models some TimelineField names as its actor, by foreign key: deleting one of their rows erases it.
ACTOR_MODELS = set()


def _remember(sender, instance, **kwargs):
    instance._timak_remember()


def _saved(sender, instance, created, raw, using, **kwargs):
    if not raw:  # loaddata: related rows may not exist yet; rebuild_timelines afterwards
        previous = None if created else instance._timak_previous()
        fanout.publish_save(sender, instance, previous, using)
    instance._timak_remember()


class Cascade:
    """The rows one ``delete()`` removes, counted in by ``pre_delete`` and out by ``post_delete``."""

    def __init__(self, using):
        self.using = using
        self.pending = 0
        self.deleted = []  # (model, row, keys), published together at the end
        self.gone = set()  # the refs of the actor rows deleted
        self.erased = set()  # the refs of the actors this cascade deletes (as far as known yet)
        self.origins = set()  # ids of the origins whose actors are in ``erased``
        transaction.on_commit(self.ended, using=using)

    def ended(self):
        """Mark the transaction as over (a registered on-commit callback that stays registered until then)."""

    def current(self) -> bool:
        """Return True while the transaction the cascade began in is still open."""
        pending = connections[self.using].run_on_commit
        return any(func == self.ended for _, func, _ in pending)

    def learn(self, origin):
        """Add the actors the delete's ``origin`` (an actor row, or a queryset of them) removes; one query at most."""
        if id(origin) in self.origins:
            return
        self.origins.add(id(origin))
        if isinstance(origin, Model) and type(origin)._meta.concrete_model in ACTOR_MODELS and origin.pk is not None:
            self.erased.add(make_ref(origin))
        elif isinstance(origin, QuerySet) and origin.model._meta.concrete_model in ACTOR_MODELS:
            label = model_label(origin.model)
            self.erased.update(f"{label}:{pk}" for pk in origin.values_list("pk", flat=True))

    def covers(self, model, row) -> bool:
        """Return True if the erasure of this cascade's actors removes every item ``row`` wrote."""
        fields = model._timak_fields
        return bool(self.erased) and all(f.actor_model(model) is not None and f.actor_of(row) in self.erased for f in fields)

    def publish(self):
        """Fan the deletes out: one row alone as ever, several as one batch; erase the actors after commit."""
        for ref in sorted(self.erased & self.gone):
            transaction.on_commit(partial(_erase, ref), using=self.using, robust=True)
        if not self.deleted:
            return
        if len(self.deleted) == 1:
            fanout.publish_delete(*self.deleted[0], self.using)
            return
        with fanout.batched():
            for model, row, keys in self.deleted:
                fanout.publish_delete(model, row, keys, self.using)


_cascades = threading.local()


def _cascade(using, begin=False):
    """Return the open cascade on ``using`` in this thread (begun if ``begin``), or None."""
    found = getattr(_cascades, "by_database", None)
    if found is None:
        found = _cascades.by_database = {}
    cascade = found.get(using)
    if cascade is not None and not cascade.current():
        cascade = found[using] = None  # its delete failed and rolled back: nothing of it is published
    if cascade is None and begin:
        cascade = found[using] = Cascade(using)
    return cascade


def _erase(ref):
    from .erasure import erase_actor

    try:
        erase_actor(ref)
    except Exception as e:  # a store error: the delete has committed, the erasure must be run again
        logger.error("timak: erasing %s failed (%s); run manage.py timak_erase %s", ref, e, ref, exc_info=e)


def _deleting(sender, instance, using, origin=None, **kwargs):
    cascade = _cascade(using, begin=True)
    cascade.pending += 1
    cascade.learn(origin)
    if cascade.covers(sender, instance):
        instance._timak_covered = True
        return
    # The keys are computed before any row goes, while relations (recipients) are intact.
    instance._timak_delete_keys = computed(sender, instance, delete_keys)


def _deleted(sender, instance, using, **kwargs):
    covered = instance.__dict__.pop("_timak_covered", False)
    keys = instance.__dict__.pop("_timak_delete_keys", [])
    cascade = _cascade(using)
    if cascade is None:  # deleted without its pre_delete (sent by hand): published alone
        fanout.publish_delete(sender, instance, keys, using)
        return
    if not covered:
        cascade.deleted.append((sender, instance, keys))
    _counted_out(cascade, using)


def _actor_deleting(sender, instance, using, origin=None, **kwargs):
    cascade = _cascade(using, begin=True)
    cascade.pending += 1
    cascade.learn(origin)


def _actor_deleted(sender, instance, using, **kwargs):
    cascade = _cascade(using, begin=True)
    ref = make_ref(instance)
    cascade.gone.add(ref)
    cascade.erased.add(ref)
    _counted_out(cascade, using)


def _counted_out(cascade, using):
    cascade.pending -= 1
    if cascade.pending <= 0:
        _cascades.by_database.pop(using, None)
        cascade.publish()


def wire_actor(model) -> None:
    """Connect the erasure of deleted actors for the models ``model``'s fields name as actor."""
    for field in model._timak_fields:
        actor = field.actor_model(model)
        if actor is None or actor in ACTOR_MODELS:
            continue
        ACTOR_MODELS.add(actor)
        label = actor._meta.label_lower
        pre_delete.connect(_actor_deleting, sender=actor, dispatch_uid=f"django_timak.actor_deleting.{label}")
        post_delete.connect(_actor_deleted, sender=actor, dispatch_uid=f"django_timak.actor_deleted.{label}")


def wire(model) -> None:
    """Connect a TimelineMixin model's receivers, with sender=model; other models are left alone.

    Migrations' historical models (module ``__fake__``) are left alone too: they come
    and go while migrations run, and a signal keys its receivers by ``id(sender)``, so a
    later model that reuses a collected one's id would receive them.
    """
    if not issubclass(model, TimelineMixin) or model.__module__ == "__fake__":
        return
    model._timak_fields = model.timeline_fields()
    label = model._meta.label_lower
    post_init.connect(_remember, sender=model, dispatch_uid=f"django_timak.remember.{label}")
    post_save.connect(_saved, sender=model, dispatch_uid=f"django_timak.saved.{label}")
    pre_delete.connect(_deleting, sender=model, dispatch_uid=f"django_timak.deleting.{label}")
    post_delete.connect(_deleted, sender=model, dispatch_uid=f"django_timak.deleted.{label}")
    wire_actor(model)


def _prepared(sender, **kwargs):
    wire(sender)


def wire_all() -> None:
    """Wire every installed model now, and every model prepared from now on."""
    class_prepared.connect(_prepared, dispatch_uid="django_timak.receivers.wire")
    for model in apps.get_models():
        wire(model)
