"""Fan-out in real worker processes: RUN="task" on django-tasks-db, applied by two db_worker processes.

The request records row changes and enqueues tasks in the database; two worker
processes started with ``manage.py db_worker`` compute the keys and append. The end
state must be what ``rebuild_timelines`` builds from the database.
"""

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from django_timak import timelines
from django_timak.models import StoredTimeline, TimelineDelta
from tests.models import Post
from tests.social import follow, make_users

pytest.importorskip("django_tasks_db")

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.subprocess, pytest.mark.slow]

DATABASE = {"BACKEND": "django_timak.backends.db.DatabaseBackend", "MAX_ITEMS": 1000}
#: Both aliases in the database, so that the workers' writes are seen here (the memory
#: alias's keys are the profile's own: the same items, merged).
TIMELINES = {"default": DATABASE, "memory": DATABASE}
TASKS_BACKEND = {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["timelines"]}
FANOUT = {"RUN": "task", "TASK_BACKEND": "workers", "TASK_QUEUE": "timelines", "BATCH_SIZE": 7}


@pytest.fixture
def worker_settings(settings):
    settings.TIMAK_TIMELINES = TIMELINES
    settings.TASKS = {**settings.TASKS, "workers": TASKS_BACKEND}
    settings.TIMAK_FANOUT = FANOUT
    return {
        "DATABASES": {"default": {**connection.settings_dict, "TEST": {}}},
        "TIMAK_TIMELINES": TIMELINES,
        "TASKS": settings.TASKS,
        "TIMAK_FANOUT": FANOUT,
    }


def visible():
    keys = set(StoredTimeline.objects.values_list("key", flat=True)) | set(TimelineDelta.objects.values_list("key", flat=True))
    return {key: [(e.id, e.score, e.data) for e in timelines["default"].get(key, raw=True)] for key in sorted(keys)}


def test_two_db_worker_processes_apply_every_change_and_match_a_rebuild(worker_settings):
    from django_tasks_db.models import DBTaskResult

    authors = make_users("ann", "ben", "cat")
    readers = make_users(*(f"reader{i}" for i in range(12)))
    for i, reader in enumerate(readers):
        for author in authors[: 1 + i % 3]:
            follow(reader, author)
    start = timezone.now() - timedelta(hours=1)
    posts = [Post.objects.create(author=authors[i % 3], body=f"post {i}", created=start + timedelta(minutes=i)) for i in range(30)]
    posts[4].delete()
    posts[7].published = False
    posts[7].save()
    posts[9].author = authors[2]
    posts[9].save()
    enqueued = DBTaskResult.objects.count()
    assert enqueued == 30 + 3 and visible() == {}  # one task per save or delete; nothing applied in the request

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "TIMAK_TEST_OVERRIDES": json.dumps(worker_settings)}
    command = [sys.executable, "-m", "django", "db_worker", "--backend", "workers", "--queue-name", "timelines", "--batch", "--no-startup-delay", "--no-reload"]
    workers = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err.decode()

    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert DBTaskResult.objects.count() == enqueued
    applied = visible()
    assert len(applied[f"user:{readers[2].pk}:home"]) == 30 - 2  # a delete and an unpublish
    StoredTimeline.objects.all().delete()
    TimelineDelta.objects.all().delete()
    call_command("rebuild_timelines", verbosity=0)
    assert visible() == applied
