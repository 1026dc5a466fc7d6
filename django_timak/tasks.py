"""Fan-out as background tasks (``TIMAK_FANOUT["RUN"] = "task"``): row changes, and outbox drains.

Uses Django's tasks framework: ``django.tasks`` on Django 6, else the
``django-tasks`` backport. Imported only when a batch is enqueued, or by a worker
running one; without a framework, importing it is a configuration error (the
system check django_timak.E013 reports it earlier).
"""

from . import outbox, row_changes
from .conf import fanout_settings
from .exceptions import TimelineConfigError
from .row_changes import RowChange

try:
    from django.tasks import task
except ImportError:
    try:
        from django_tasks import task
    except ImportError as e:
        raise TimelineConfigError(
            'TIMAK_FANOUT["RUN"] = "task" needs django.tasks (Django 6) or the django-tasks backport'
        ) from e

_config = fanout_settings()


@task(backend=_config["TASK_BACKEND"], queue_name=_config["TASK_QUEUE"])
def apply_row_changes(changes: list[dict]) -> dict:
    """Compute the keys of recorded row changes and append to them; return how many keys failed."""
    config = fanout_settings()
    recorded = [RowChange.from_dict(change) for change in changes]
    return {"changes": len(recorded), "failed": row_changes.apply(recorded, config["BATCH_SIZE"], config["WORKERS"])}


@task(backend=_config["TASK_BACKEND"], queue_name=_config["TASK_QUEUE"])
def drain_outbox(ids: list[int] | None = None, using: str | None = None) -> dict:
    """Apply recorded outbox operations (``ids``, else whatever is due); return the counts."""
    result = outbox.deliver(ids, using=using) if ids else outbox.drain_all(using=using)
    return {"applied": result.applied, "failed": result.failed}
