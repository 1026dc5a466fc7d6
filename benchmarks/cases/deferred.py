"""Case 9: a deferred save of a post to many followers costs about as much as a save without timelines.

With ``RUN = "task"`` (and with the outbox too) the request records the row change
and enqueues it; the worker computes the followers and the keys. The floor is the
same row inserted without any fan-out (``bulk_create``, which sends no signals).
The tasks go to django-tasks' DummyBackend, which keeps them and runs none: what is
measured is the request's own work.
"""

import django
from django.db import transaction
from django.test import override_settings

from ..measure import compare
from ..report import ratio_row
from tests.models import Follow, Post, User

TASKS = {"default": {"BACKEND": ("django.tasks" if django.VERSION >= (6,) else "django_tasks") + ".backends.dummy.DummyBackend"}}
VARIANTS = {
    "RUN=task": {"TIMAK_FANOUT": {"RUN": "task"}, "TIMAK_OUTBOX": {"ENABLED": False}},
    "RUN=task, outbox": {"TIMAK_FANOUT": {"RUN": "task"}, "TIMAK_OUTBOX": {"ENABLED": True}},
}


def author_with_followers(count: int) -> User:
    author = User.objects.create(username=f"deferred-author-{count}")
    followers = User.objects.bulk_create([User(username=f"deferred-{count}-{i}") for i in range(count)], batch_size=2000)
    Follow.objects.bulk_create([Follow(follower=f, followee=author) for f in followers], batch_size=2000)
    return author


def run(config):
    author = author_with_followers(config.followers)
    rows = []

    def floor():
        with transaction.atomic():
            Post.objects.bulk_create([Post(author=author, body="no timelines")])

    for name, overrides in VARIANTS.items():
        with override_settings(TASKS=TASKS, **overrides):

            def save():
                with transaction.atomic():
                    Post.objects.create(author=author, body="deferred")

            subject, base = compare(save, floor, config.runs)
        rows.append(ratio_row("9 deferred save", f"{name}, {config.followers:,} followers", "ms", subject, base,
                              "save without timelines", limit=3, scale=1000))
    return rows
