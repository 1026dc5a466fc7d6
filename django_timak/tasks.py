"""Fan-out batches as background tasks (``TIMAK_FANOUT["RUN"] = "task"``).

Uses Django's tasks framework: ``django.tasks`` on Django 6, else the
``django-tasks`` backport. Imported only when a batch is enqueued, or by a worker
running one; without a framework, importing it is a configuration error (the
system check django_timak.E013 reports it earlier).
"""

from django.apps import apps

from . import outbox
from .conf import fanout_settings
from .exceptions import TimelineConfigError
from .operations import Operation, apply_batch, group

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
def apply_fanout_batch(model_label: str, operations: list[dict]) -> dict:
    """Apply one fan-out batch; return how many writes it made and how many failed."""
    model = apps.get_model(model_label)
    batch = [Operation.from_dict(op) for op in operations]
    failed = apply_batch(model, batch, fanout_settings()["WORKERS"])
    return {"writes": len(group(batch)), "failed": failed}


@task(backend=_config["TASK_BACKEND"], queue_name=_config["TASK_QUEUE"])
def drain_outbox(ids: list[int] | None = None, using: str | None = None) -> dict:
    """Apply recorded outbox operations (``ids``, else whatever is due); return the counts."""
    result = outbox.deliver(ids, using=using) if ids else outbox.drain_all(using=using)
    return {"applied": result.applied, "failed": result.failed}
