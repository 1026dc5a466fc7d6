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
"""

import threading

from django.apps import apps
from django.db import connections, transaction
from django.db.models.signals import class_prepared, post_delete, post_init, post_save, pre_delete

from . import fanout
from .declarations import TimelineMixin
from .row_operations import computed, delete_keys


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
        transaction.on_commit(self.ended, using=using)

    def ended(self):
        """Mark the transaction as over (a registered on-commit callback that stays registered until then)."""

    def current(self) -> bool:
        """Return True while the transaction the cascade began in is still open."""
        pending = connections[self.using].run_on_commit
        return any(func == self.ended for _, func, _ in pending)

    def publish(self):
        """Fan the deletes out: one row alone as ever, several as one batch."""
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


def _deleting(sender, instance, using, **kwargs):
    # The keys are computed before any row goes, while relations (recipients) are intact.
    instance._timak_delete_keys = computed(sender, instance, delete_keys)
    _cascade(using, begin=True).pending += 1


def _deleted(sender, instance, using, **kwargs):
    keys = instance.__dict__.pop("_timak_delete_keys", [])
    cascade = _cascade(using)
    if cascade is None:  # deleted without its pre_delete (sent by hand): published alone
        fanout.publish_delete(sender, instance, keys, using)
        return
    cascade.deleted.append((sender, instance, keys))
    cascade.pending -= 1
    if cascade.pending <= 0:
        _cascades.by_database.pop(using, None)
        cascade.publish()


def wire(model) -> None:
    """Connect a TimelineMixin model's receivers, with sender=model; other models are left alone."""
    if not issubclass(model, TimelineMixin):
        return
    model._timak_fields = model.timeline_fields()
    label = model._meta.label_lower
    post_init.connect(_remember, sender=model, dispatch_uid=f"django_timak.remember.{label}")
    post_save.connect(_saved, sender=model, dispatch_uid=f"django_timak.saved.{label}")
    pre_delete.connect(_deleting, sender=model, dispatch_uid=f"django_timak.deleting.{label}")
    post_delete.connect(_deleted, sender=model, dispatch_uid=f"django_timak.deleted.{label}")


def _prepared(sender, **kwargs):
    wire(sender)


def wire_all() -> None:
    """Wire every installed model now, and every model prepared from now on."""
    class_prepared.connect(_prepared, dispatch_uid="django_timak.receivers.wire")
    for model in apps.get_models():
        wire(model)
