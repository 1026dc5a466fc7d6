"""The outbox on its own: row changes recorded in the transaction, draining, retries, leases, status."""

import io
import json
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from conftest import DATABASE_ALIASES
from django_timak import outbox, timelines
from django_timak.conf import fanout_settings
from django_timak.models import PendingOperation
from django_timak.row_changes import deleted, saved
from tests.models import Post
from tests.social import make_users

pytestmark = pytest.mark.django_db(transaction=True, databases=DATABASE_ALIASES)

MEMORY = {"BACKEND": "django_timak.backends.memory.MemoryBackend", "MAX_ITEMS": 100}


@pytest.fixture
def riak_down(riak_fault_server, riak_bucket):
    """The "default" timeline on the Riak test server, which is down; fast retries."""
    config = {
        "default": {
            "BACKEND": "django_timak.backends.riak.RiakBackend",
            "OPTIONS": {"URL": riak_fault_server.url, "BUCKET": riak_bucket, "TIMEOUT": 0.5, "RETRIES": 0},
        },
        "memory": MEMORY,
    }
    with override_settings(TIMAK_TIMELINES=config, TIMAK_OUTBOX={"BACKOFF": 0.01, "MAX_BACKOFF": 0.02}):
        riak_fault_server.down()
        yield riak_fault_server
        riak_fault_server.up()


@pytest.fixture
def posts(using):
    """Three posts by one author, saved without fan-out (their changes are recorded by the tests)."""
    with override_settings(TIMAK_TIMELINES={"default": MEMORY, "memory": MEMORY}):
        (author,) = make_users("author")
        made = [Post.objects.create(author=author, body=f"post {i}", created=timezone.now()) for i in range(3)]
        timelines["default"].backend.clear()
    return made


def profile(post):
    return f"user:{post.author_id}:posts"


def change(post, clock, previous=None):
    return saved(post, previous, "default", clock)


def test_changes_are_recorded_in_the_transaction(using, posts):
    with pytest.raises(RuntimeError):
        with transaction.atomic(using=using):
            outbox.record([change(posts[0], 10)], using=using)
            raise RuntimeError("rolled back")
    assert not PendingOperation.objects.using(using).exists()
    with transaction.atomic(using=using):
        ids = outbox.record([change(posts[0], 10), change(posts[1], 11)], using=using)
    assert len(ids) == 2 and PendingOperation.objects.using(using).count() == 2


@override_settings(TIMAK_TIMELINES={"default": MEMORY})
def test_a_drain_computes_the_keys_applies_and_removes_changes(using, posts):
    outbox.record([change(post, 10 + i) for i, post in enumerate(posts)], using=using)
    result = outbox.drain(using=using)
    assert (result.applied, result.failed) == (3, 0)
    assert set(timelines["default"].get(profile(posts[0]))) == {f"tests.post:{p.pk}" for p in posts}
    assert outbox.status(using=using).depth == 0


@override_settings(TIMAK_TIMELINES={"default": MEMORY})
def test_a_later_delete_wins_whatever_order_changes_arrive_in(using, posts):
    post = posts[0]
    keys = [("default", profile(post))]
    outbox.record([deleted(post, keys, "default", 20)], using=using)
    outbox.drain(using=using)
    outbox.record([change(post, 10)], using=using)  # an older save, retried late
    outbox.drain(using=using)
    outbox.record([change(post, 10), deleted(post, keys, "default", 20)], using=using)  # both in one batch
    outbox.drain(using=using)
    assert f"tests.post:{post.pk}" not in timelines["default"].get(profile(post))


@override_settings(TIMAK_TIMELINES={"default": MEMORY})
def test_an_edit_recorded_before_its_row_was_deleted_still_removes_it_from_the_keys_it_left(using, posts):
    post, other_author = posts[0], make_users("other")[0]
    outbox.record([change(post, 10)], using=using)
    outbox.drain(using=using)
    previous = Post.objects.get(pk=post.pk)
    Post.objects.filter(pk=post.pk).update(author=other_author)  # saved without fan-out: the change is recorded below
    post.refresh_from_db()
    outbox.record([change(post, 20, previous=previous)], using=using)
    Post.objects.filter(pk=post.pk).delete()  # gone before the worker runs: no row, no current keys
    outbox.drain(using=using)
    assert timelines["default"].get(profile(previous)) == []


@pytest.mark.fault
def test_failed_changes_stay_and_are_retried_with_backoff(riak_down, using, posts, write_attempts):
    outbox.record([change(post, 10 + i) for i, post in enumerate(posts)], using=using)
    result = outbox.drain(using=using)
    assert (result.applied, result.failed) == (0, 3)
    assert len(write_attempts) == 1, "a down store is waited for once per concurrent append call, not once per key"
    rows = PendingOperation.objects.using(using)
    assert set(rows.values_list("attempts", flat=True)) == {1}
    assert all(row.last_error.startswith("TimelineBackendError") for row in rows)
    figures = outbox.status(using=using)
    assert (figures.depth, figures.failing) == (3, {"default": 3})
    assert figures.oldest_age >= 0

    riak_down.up()
    time.sleep(0.05)
    assert outbox.drain_all(using=using).applied == 3
    assert outbox.status(using=using).depth == 0
    assert set(timelines["default"].get(profile(posts[0]))) == {f"tests.post:{p.pk}" for p in posts}


@override_settings(TIMAK_TIMELINES={"default": MEMORY}, TIMAK_OUTBOX={"LEASE": 0.3})
def test_claimed_rows_are_not_drained_twice_until_the_lease_ends(using, posts):
    outbox.record([change(posts[0], 10)], using=using)
    assert len(outbox._claim(None, 10, 0.3, using)) == 1  # a drain that then dies
    assert outbox.drain(using=using).applied == 0
    time.sleep(0.35)
    assert outbox.drain(using=using).applied == 1
    assert timelines["default"].get(profile(posts[0])) == [f"tests.post:{posts[0].pk}"]


@override_settings(TIMAK_TIMELINES={"default": MEMORY})
def test_drain_and_status_commands(using, posts):
    outbox.record([change(posts[0], 10), change(posts[1], 11)], using=using)
    out = io.StringIO()
    call_command("timak_status", "--json", "--database", using, stdout=out)
    figures = json.loads(out.getvalue())
    assert (figures["depth"], figures["due"], figures["failing"]) == (2, 2, {})
    out = io.StringIO()
    call_command("timak_drain", "--database", using, stdout=out)
    assert "Applied 2 change(s)." in out.getvalue()
    assert "0 change(s) still pending" in out.getvalue()
    out = io.StringIO()
    call_command("timak_status", "--database", using, stdout=out)
    assert "pending changes: 0" in out.getvalue() and "no failing changes" in out.getvalue()


@pytest.mark.fault
def test_the_outbox_is_on_for_networked_stores_by_default(riak_down):
    assert outbox.enabled_for("default") and not outbox.enabled_for("memory")
    with override_settings(TIMAK_OUTBOX={"ENABLED": True}):
        assert outbox.enabled_for("memory")
    with override_settings(TIMAK_OUTBOX={"ENABLED": False}):
        assert not outbox.enabled_for("default")


@override_settings(TIMAK_TIMELINES={"default": MEMORY}, TIMAK_OUTBOX={"WARN_AGE": 60})
def test_a_check_warns_when_the_outbox_falls_behind(posts):
    from django_timak.checks import check_outbox_age

    outbox.record([change(posts[0], 10)])
    assert check_outbox_age(databases=["default"]) == []
    PendingOperation.objects.update(created=timezone.now() - timedelta(seconds=90))
    [warning] = check_outbox_age(databases=["default"])
    assert warning.id == "django_timak.W030"
    assert warning.msg.startswith("The timeline outbox holds 1 change(s); the oldest is 90 s old (over WARN_AGE, 60 s).")
    assert check_outbox_age(databases=None) == []


@pytest.mark.parametrize(
    "setting, expected",
    [
        ({"BATCH": 5}, [("django_timak.E030", "TIMAK_OUTBOX has unknown keys: BATCH.")]),
        ({"ENABLED": "yes"}, [("django_timak.E031", "TIMAK_OUTBOX['ENABLED'] must be True, False or None, not 'yes'.")]),
        ({"LEASE": 0}, [("django_timak.E032", "TIMAK_OUTBOX['LEASE'] must be a positive number, not 0.")]),
        ("on", [("django_timak.E030", "TIMAK_OUTBOX must be a dict.")]),
    ],
)
def test_outbox_setting_checks(setting, expected):
    from django_timak.checks import check_outbox_setting

    with override_settings(TIMAK_OUTBOX=setting):
        assert [(m.id, m.msg) for m in check_outbox_setting()] == expected


@override_settings(TIMAK_TIMELINES={"default": MEMORY})
def test_deliver_without_row_ids_drains_what_is_due(using, posts):
    outbox.record([change(posts[0], 10)], using=using)
    assert outbox.deliver([], using=using).applied == 1
    assert timelines["default"].get(profile(posts[0])) == [f"tests.post:{posts[0].pk}"]
