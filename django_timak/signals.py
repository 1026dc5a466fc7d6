"""Signals django-timak sends.

``fanout_failed(sender=model, operations=[Operation], exception=exc)``: a fan-out
batch could not be applied (the store was down, timed out, refused a value). The
row's save or delete has succeeded regardless; ``operations`` are the ones that were
not applied, plain and JSON-serialisable, so a receiver can record or retry them.
``rebuild_timelines`` repairs any timeline from the database.
"""

from django.dispatch import Signal

fanout_failed = Signal()
