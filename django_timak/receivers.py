"""The signal receivers that keep a ``TimelineMixin`` model's timelines current.

Each model is wired with ``sender=`` itself and a ``dispatch_uid``, so no receiver
runs for other models' saves: the installed models when the app is ready, models
created later (tests, dynamic models) as they are prepared.
"""

import logging

from django.apps import apps
from django.db.models.signals import class_prepared, post_delete, post_init, post_save, pre_delete

from . import fanout
from .declarations import TimelineMixin
from .refs import make_ref
from .row_operations import delete_keys, delete_operations, save_operations
from .signals import fanout_failed

logger = logging.getLogger("django_timak")


def _remember(sender, instance, **kwargs):
    instance._timak_remember()


def _computed(model, row, compute, *args):
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


def _saved(sender, instance, created, raw, using, **kwargs):
    if not raw:  # loaddata: related rows may not exist yet; rebuild_timelines afterwards
        previous = None if created else instance._timak_previous()
        fanout.publish(sender, _computed(sender, instance, save_operations, previous), using)
    instance._timak_remember()


def _deleting(sender, instance, using, **kwargs):
    # The keys are computed before any row goes, while relations (recipients) are intact.
    instance._timak_delete_keys = _computed(sender, instance, delete_keys)


def _deleted(sender, instance, using, **kwargs):
    keys = instance.__dict__.pop("_timak_delete_keys", [])
    fanout.publish(sender, delete_operations(instance, keys), using)


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
