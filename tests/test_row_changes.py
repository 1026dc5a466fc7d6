"""Deferred fan-out records row changes: a bounded number per save, and the worker computes the keys."""

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_timak import fanout, outbox, timelines
from django_timak.models import PendingOperation
from django_timak.row_changes import PARTS, RowChange, expand, saved
from tests.models import Note, Post
from tests.social import follow, ids, make_users, ref

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clear_memory")]

#: The outbox on for every alias; with RUN "task" to an outbox drain that a test runs itself.
RECORDED = {"TIMAK_OUTBOX": {"ENABLED": True}, "TIMAK_FANOUT": {"RUN": "task", "TASK_BACKEND": "held"}}


@pytest.fixture
def recorded(settings):
    """Fan-out recorded in the outbox; the drain tasks go to a backend that runs none."""
    backend = settings.TASKS["default"]["BACKEND"].replace("immediate.ImmediateBackend", "dummy.DummyBackend")
    with override_settings(TASKS={**settings.TASKS, "held": {"BACKEND": backend}}, **RECORDED):
        yield


@pytest.fixture
def audience():
    author, *readers = make_users("author", *(f"reader{i}" for i in range(40)))
    for reader in readers:
        follow(reader, author)
    return author, readers


def test_a_post_to_forty_followers_records_one_change_per_alias(recorded, audience):
    author, readers = audience
    with CaptureQueriesContext(connection) as queries:
        post = Post.objects.create(author=author, body="hello")
    statements = [q["sql"].split(" ", 2)[:2] for q in queries.captured_queries if q["sql"].startswith(("INSERT", "SELECT"))]
    assert statements == [["INSERT", "INTO"]] * 2  # the post and its outbox rows; the followers are read by the drain
    assert sorted(PendingOperation.objects.values_list("timeline", flat=True)) == ["default", "memory"]
    assert ids(f"user:{readers[0].pk}:home") == []
    assert outbox.drain_all().applied == 2
    assert all(ids(f"user:{r.pk}:home") == [ref(post)] for r in readers)
    assert ids(f"user:{author.pk}:posts", "memory") == [ref(post)]


def test_ten_batched_posts_record_ten_changes_per_alias_not_one_per_key(recorded, audience):
    author, readers = audience
    with fanout.batched():
        posts = [Post.objects.create(author=author, body=f"post {i}") for i in range(10)]
    assert PendingOperation.objects.count() == 10 * 2
    outbox.drain_all()
    assert set(ids(f"user:{readers[7].pk}:home")) == {ref(p) for p in posts}


def test_edits_recorded_before_the_drain_end_where_the_row_ends(recorded, audience):
    author, readers = audience
    (other,) = make_users("other")
    post = Post.objects.create(author=author, body="first")
    outbox.drain_all()
    post.author = other
    post.save()
    post.published = False
    post.save()
    post.published = True
    post.body = "last"
    post.save()
    assert PendingOperation.objects.count() == 3 * 2
    outbox.drain_all()
    assert ids(f"user:{author.pk}:posts") == ids(f"user:{readers[0].pk}:home") == []
    assert ids(f"user:{other.pk}:posts") == ids(f"user:{other.pk}:posts", "memory") == [ref(post)]


def test_the_previous_version_survives_its_trip_through_json(recorded):
    (author,) = make_users("author")
    created = timezone.now() - timedelta(days=2)
    post = Post.objects.create(author=author, body="draft", created=created, published=False)
    previous = Post.objects.get(pk=post.pk)
    post.created, post.published = timezone.now(), True
    post.save()
    change = RowChange.from_dict(saved(post, previous, "default", 10).to_dict())
    assert change.previous == {"id": str(post.pk), "author_id": str(author.pk), "created": created.isoformat(),
                               "body": "draft", "published": "False"}


def test_a_recipients_callable_that_raises_in_the_worker_is_reported_and_the_change_settled(recorded, caplog):
    with caplog.at_level(logging.ERROR, logger="django_timak"):
        note = Note.objects.create(topic="oops! #a")
        result = outbox.drain_all()
    assert (result.applied, result.failed) == (1, 0)
    assert "could not be computed" in caplog.text
    assert ids(f"topic:{note.topic}") == [ref(note)]  # the field whose key could be computed


def test_a_deleted_rows_key_that_cannot_be_stored_is_skipped_by_the_drain(recorded, caplog):
    note = Note.objects.create(topic="y" * 300 + " #fine")
    outbox.drain_all()
    with caplog.at_level(logging.WARNING, logger="django_timak"):
        note.delete()
        result = outbox.drain_all()
    assert (result.applied, result.failed) == (1, 0)
    assert "cannot be stored" in caplog.text
    assert timelines["default"].get("tag:fine") == []


def test_a_change_of_a_row_that_never_committed_expands_to_nothing():
    change = RowChange("default", "tests.post", "999999", "save", 10)
    assert [expand([change], part) for part in PARTS] == [[[]], [[]]]
