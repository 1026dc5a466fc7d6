"""The signal receivers that keep a ``TimelineMixin`` model's timelines current.

Each model is wired with ``sender=`` itself and a ``dispatch_uid``, so no receiver
runs for other models' saves: the installed models when the app is ready, models
created later (tests, dynamic models) as they are prepared.
"""

from django.apps import apps
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


def _deleting(sender, instance, using, **kwargs):
    # The keys are computed before any row goes, while relations (recipients) are intact.
    instance._timak_delete_keys = computed(sender, instance, delete_keys)


def _deleted(sender, instance, using, **kwargs):
    fanout.publish_delete(sender, instance, instance.__dict__.pop("_timak_delete_keys", []), using)


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
