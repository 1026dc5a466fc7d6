"""Fan-out that loses nothing: the outbox against the Riak test server's faults.

20 authors, each followed by the same 50 readers, write 200 posts while the store is
down, failing or stalling. Every save succeeds; once the store is well again, draining
the outbox must leave every timeline exactly as ``rebuild_timelines`` would build it.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from django_timak import outbox, timelines
from django_timak.conf import fanout_settings
from django_timak.models import PendingOperation
from tests.models import Follow, Post, User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clear_memory"), pytest.mark.fault, pytest.mark.slow]

AUTHORS, READERS, POSTS = 20, 50, 200
TIMEOUT = 0.3
#: Row changes the killed drain worker claims per batch.
BATCH_SIZE = 50


def riak_timelines(url, bucket, timeout=TIMEOUT):
    return {
        "default": {
            "BACKEND": "django_timak.backends.riak.RiakBackend",
            "OPTIONS": {"URL": url, "BUCKET": bucket, "TIMEOUT": timeout, "RETRIES": 0},
            "MAX_ITEMS": 1000,
        },
        "memory": settings.TIMAK_TIMELINES["memory"],
    }


@pytest.fixture
def store(riak_fault_server, riak_bucket):
    """Timelines on the Riak test server; the outbox retries after a few milliseconds."""
    with override_settings(
        TIMAK_TIMELINES=riak_timelines(riak_fault_server.url, riak_bucket),
        TIMAK_OUTBOX={"BACKOFF": 0.01, "MAX_BACKOFF": 0.05, "LEASE": 1.0},
    ):
        yield riak_fault_server


@pytest.fixture
def people(store):
    """20 authors, each followed by the same 50 readers (made while the store is well)."""
    authors = [User.objects.create(username=f"author{i}") for i in range(AUTHORS)]
    readers = [User.objects.create(username=f"reader{i}") for i in range(READERS)]
    Follow.objects.bulk_create([Follow(follower=r, followee=a) for a in authors for r in readers])
    return authors, readers


def keys(authors, readers):
    return [f"user:{a.pk}:posts" for a in authors] + [f"user:{r.pk}:home" for r in readers]


def snapshot(authors, readers):
    return {key: timelines["default"].get(key) for key in keys(authors, readers)}


def rebuilt(store, authors, readers):
    """Return what rebuild_timelines builds from the database, in a fresh bucket."""
    with override_settings(TIMAK_TIMELINES=riak_timelines(store.url, f"rebuilt-{uuid.uuid4().hex}")):
        call_command("rebuild_timelines", verbosity=0)
        return snapshot(authors, readers)


def write_posts(authors, write_attempts):
    """Write the posts; return the most key writes one save (with its fan-out) saw fail.

    A save waits on a failing store for one wave of concurrent writes at most: once
    a write fails, the save's other keys are left to the outbox untried.
    """
    most_failed = 0
    for i in range(POSTS):
        write_attempts.clear()
        Post.objects.create(author=authors[i % AUTHORS], body=f"post {i}")
        most_failed = max(most_failed, sum(error is not None for _, error in write_attempts))
    return most_failed


def drain_until_empty():
    for _ in range(50):
        outbox.drain_all()
        if not PendingOperation.objects.exists():
            return
        time.sleep(0.06)
    pytest.fail(f"the outbox did not empty: {outbox.status()}")


def test_posts_written_while_the_store_is_down_all_arrive_after_one_drain(store, people, write_attempts):
    authors, readers = people
    store.down()
    most_failed = write_posts(authors, write_attempts)
    assert Post.objects.count() == POSTS
    assert 0 < most_failed <= fanout_settings()["WORKERS"] < 1 + READERS, "a save waited on the down store more than once"
    figures = outbox.status()
    assert figures.depth == POSTS and figures.failing  # one change per post, whatever its audience
    store.up()
    time.sleep(0.06)
    result = outbox.drain_all()
    assert (result.applied, result.failed) == (POSTS, 0)
    assert outbox.status().depth == 0
    after = snapshot(authors, readers)
    assert all(len(items) == POSTS // AUTHORS for key, items in after.items() if key.endswith(":posts"))
    assert all(len(items) == POSTS for key, items in after.items() if key.endswith(":home"))
    assert after == rebuilt(store, authors, readers)


@pytest.mark.parametrize("fault", ["fail_every", "stall_every"])
def test_flaky_store_converges_without_duplicates_or_losses(store, people, fault, settings, write_attempts):
    authors, readers = people
    timeout = 0.1  # most saves meet a stall: keep the test short
    settings.TIMAK_TIMELINES = riak_timelines(store.url, settings.TIMAK_TIMELINES["default"]["OPTIONS"]["BUCKET"], timeout)
    if fault == "fail_every":
        store.fail_every = 3
    else:
        store.stall_every, store.stall_seconds = 10, timeout * 2
    most_failed = write_posts(authors, write_attempts)
    assert 0 < most_failed <= fanout_settings()["WORKERS"], "a save waited on the failing store more than once"
    store.reset_faults()
    drain_until_empty()
    after = snapshot(authors, readers)
    for key, items in after.items():
        assert len(items) == len(set(map(json.dumps, items))), f"duplicates in {key}"
    assert after == rebuilt(store, authors, readers)


def test_an_unpublish_issued_while_the_add_is_pending_leaves_the_post_absent(store, people):
    authors, readers = people
    store.down()
    post = Post.objects.create(author=authors[0], body="regret")
    post.published = False
    post.save()
    store.up()
    time.sleep(0.06)
    outbox.drain_all()
    assert all(items == [] for items in snapshot(authors, readers).values())


@pytest.mark.subprocess
def test_a_drain_worker_killed_midway_loses_nothing(store, people, write_attempts):
    authors, readers = people
    store.down()
    write_posts(authors, write_attempts)
    store.up()
    store.latency = 0.02
    overrides = {
        "DATABASES": {"default": {**connection.settings_dict, "NAME": connection.settings_dict["NAME"], "TEST": {}}},
        "TIMAK_TIMELINES": settings.TIMAK_TIMELINES,
        "TIMAK_OUTBOX": {**settings.TIMAK_OUTBOX, "BATCH_SIZE": BATCH_SIZE},
    }
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "TIMAK_TEST_OVERRIDES": json.dumps(overrides)}
    time.sleep(0.06)
    worker = subprocess.Popen(
        [sys.executable, "-m", "django", "timak_drain", "--loop"], env=env, cwd=settings.BASE_DIR if hasattr(settings, "BASE_DIR") else os.getcwd(),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    recorded = POSTS
    try:
        # Each batch the worker settles is an event in the outbox: rows go when applied,
        # and their attempts grow when they fail. Kill it once it has settled one.
        while PendingOperation.objects.count() > recorded - BATCH_SIZE:
            assert worker.poll() is None, worker.stderr.read().decode()
            assert not PendingOperation.objects.filter(attempts__gt=1).exists(), "the worker could not apply a batch"
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    left = PendingOperation.objects.count()
    assert 0 < left < recorded
    store.latency = 0
    time.sleep(1.1)  # the killed worker's lease ends
    drain_until_empty()
    assert snapshot(authors, readers) == rebuilt(store, authors, readers)
