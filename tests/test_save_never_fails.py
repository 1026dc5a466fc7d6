"""A save never fails because of a timeline: unstorable keys are skipped, failing callables reported.

The row is written whatever its timelines do; what cannot be done is logged once
(keys quoted, so user text cannot forge a log line) and sent as ``fanout_failed``;
``rebuild_timelines`` succeeds and says what it skipped.
"""

import io
import logging

import pytest
from django.core.management import call_command
from django.test import override_settings

from django_timak import timelines
from django_timak.signals import fanout_failed
from tests.models import Note, Post
from tests.social import make_users

pytestmark = pytest.mark.django_db(transaction=True)

UNSTORABLE = ["x" * 300, "line\nbreak", "nul\x00byte", "tab\there"]


@pytest.fixture
def failures():
    sent = []

    def receiver(sender, operations, exception, **kwargs):
        sent.append((sender, operations, exception))

    fanout_failed.connect(receiver, weak=False)
    yield sent
    fanout_failed.disconnect(receiver)


def stored_keys():
    from django_timak.models import StoredTimeline, TimelineDelta

    return set(StoredTimeline.objects.values_list("key", flat=True)) | set(TimelineDelta.objects.values_list("key", flat=True))


@pytest.mark.parametrize("topic", UNSTORABLE)
def test_a_key_that_cannot_be_stored_is_skipped_with_one_quoted_warning(topic, caplog, failures):
    with caplog.at_level(logging.WARNING, logger="django_timak"):
        note = Note.objects.create(topic=topic + " #ok")
    assert Note.objects.filter(pk=note.pk).exists()
    (record,) = [r for r in caplog.records if "cannot be stored" in r.getMessage()]
    assert repr(f"topic:{topic} #ok") in record.getMessage() and "\n" not in record.getMessage()
    assert stored_keys() == {"tag:ok"} and not failures
    note.delete()  # the delete skips the same key, and succeeds
    assert not Note.objects.exists() and timelines["default"].get("tag:ok") == []


def test_rebuild_succeeds_and_says_what_it_skipped():
    Note.objects.create(topic="fine")
    Note.objects.create(topic="y" * 300)
    from django_timak.models import StoredTimeline

    StoredTimeline.objects.all().delete()
    out = io.StringIO()
    call_command("rebuild_timelines", "tests.Note", stdout=out, stderr=io.StringIO())
    assert "Skipped 1 key(s) that cannot be stored" in out.getvalue()
    assert repr("topic:" + "y" * 300) in out.getvalue()
    assert stored_keys() == {"topic:fine"}
    call_command("rebuild_timelines", "tests.Note", stdout=io.StringIO(), stderr=io.StringIO())  # again: still fine


def test_a_recipients_callable_that_raises_is_reported_and_the_save_succeeds(caplog, failures):
    with caplog.at_level(logging.ERROR, logger="django_timak"):
        note = Note.objects.create(topic="oops! #a")
    assert Note.objects.filter(pk=note.pk).exists()
    assert "could not be computed" in caplog.text and "ValueError" in caplog.text
    [(sender, operations, exception)] = failures
    assert sender is Note and operations == [] and isinstance(exception, ValueError)
    note.delete()
    assert not Note.objects.exists()


def test_a_misconfigured_alias_at_run_time_keeps_saves_and_records_the_operations(caplog):
    """A server that runs no checks (gunicorn) meets the error: the save succeeds, the log says what is wrong."""
    broken = {"default": {"BACKEND": "django_timak.backends.db.DatabaseBackend", "MAX_ITEMS": "many"}, "memory": {"BACKEND": "django_timak.backends.memory.MemoryBackend"}}
    (alice,) = make_users("alice")
    with override_settings(TIMAK_TIMELINES=broken), caplog.at_level(logging.WARNING, logger="django_timak"):
        post = Post.objects.create(author=alice, body="still saved")
    assert Post.objects.filter(pk=post.pk).exists()
    assert "max_items must be an int" in caplog.text
    from django_timak import outbox

    assert outbox.status().depth == 1  # kept until the alias is fixed
    assert "0 change(s) still pending" in _drain()
    assert timelines["default"].get(f"user:{alice.pk}:posts") == [f"tests.post:{post.pk}"]


def test_an_invalid_fanout_setting_at_run_time_keeps_saves(caplog, failures):
    (alice,) = make_users("alice")
    with override_settings(TIMAK_FANOUT={"RUN": "sometimes"}), caplog.at_level(logging.ERROR, logger="django_timak"):
        post = Post.objects.create(author=alice, body="still saved")
    assert Post.objects.filter(pk=post.pk).exists()
    assert "RUN" in caplog.text and failures


def _drain():
    out = io.StringIO()
    call_command("timak_drain", stdout=out, stderr=io.StringIO())
    return out.getvalue()
