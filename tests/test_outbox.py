"""The outbox on its own: recording in the transaction, draining, retries, leases, status."""

import io
import json
import time

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from conftest import DATABASE_ALIASES
from django_timak import outbox, timelines
from django_timak.conf import fanout_settings
from django_timak.models import PendingOperation
from django_timak.operations import Operation

pytestmark = pytest.mark.django_db(transaction=True, databases=DATABASE_ALIASES)

MEMORY = {"BACKEND": "django_timak.backends.memory.MemoryBackend", "MAX_ITEMS": 100}


@pytest.fixture
def riak_down(riak_fault_server, riak_bucket):
    """A "riak" timeline on the Riak test server, which is down; fast retries."""
    config = {
        "default": MEMORY,
        "riak": {
            "BACKEND": "django_timak.backends.riak.RiakBackend",
            "OPTIONS": {"URL": riak_fault_server.url, "BUCKET": riak_bucket, "TIMEOUT": 0.5, "RETRIES": 0},
        },
    }
    with override_settings(TIMAK_TIMELINES=config, TIMAK_OUTBOX={"BACKOFF": 0.01, "MAX_BACKOFF": 0.02}):
        riak_fault_server.down()
        yield riak_fault_server
        riak_fault_server.up()


def op(key, action, uniq_id, modified, timeline="default", score=1, data=None):
    return Operation(timeline, key, action, uniq_id, score, data, modified)


def test_operations_are_recorded_in_the_transaction(using):
    with pytest.raises(RuntimeError):
        with transaction.atomic(using=using):
            outbox.record([op("k", "add", 1, 10)], using=using)
            raise RuntimeError("rolled back")
    assert not PendingOperation.objects.using(using).exists()
    with transaction.atomic(using=using):
        ids = outbox.record([op("k", "add", 1, 10), op("k", "add", "x", 11, data={"a": 0})], using=using)
    assert len(ids) == 2 and PendingOperation.objects.using(using).count() == 2


@override_settings(TIMAK_TIMELINES={"default": MEMORY})
def test_a_drain_applies_and_removes_operations(using):
    outbox.record([op("k", "add", 1, 10), op("k", "add", 2, 11, score=2, data=0), op("j", "add", 3, 12)], using=using)
    result = outbox.drain(using=using)
    assert (result.applied, result.failed) == (3, 0)
    assert timelines["default"].get("k") == [0, 1] and timelines["default"].get("j") == [3]
    assert outbox.status(using=using).depth == 0


@override_settings(TIMAK_TIMELINES={"default": MEMORY})
def test_a_later_delete_wins_whatever_order_operations_arrive_in(using):
    outbox.record([op("k", "delete", 1, 20)], using=using)
    outbox.drain(using=using)
    outbox.record([op("k", "add", 1, 10)], using=using)  # an older add, retried late
    outbox.drain(using=using)
    outbox.record([op("k", "add", 1, 10), op("k", "delete", 1, 20)], using=using)  # both in one batch
    outbox.drain(using=using)
    assert timelines["default"].get("k") == []


@pytest.mark.fault
def test_failed_operations_stay_and_are_retried_with_backoff(riak_down, using, write_attempts):
    outbox.record([op(f"k{i}", "add", i, 10 + i, timeline="riak") for i in range(20)], using=using)
    result = outbox.drain(using=using)
    assert (result.applied, result.failed) == (0, 20)
    workers = fanout_settings()["WORKERS"]
    assert 0 < len(write_attempts) <= workers < 20, "a down store is waited for once per concurrent write, not once per key"
    rows = PendingOperation.objects.using(using)
    assert set(rows.values_list("attempts", flat=True)) == {1}
    assert all(row.last_error.startswith("TimelineBackendError") for row in rows)
    figures = outbox.status(using=using)
    assert (figures.depth, figures.failing) == (20, {"riak": 20})
    assert figures.oldest_age >= 0

    riak_down.up()
    time.sleep(0.05)
    assert outbox.drain_all(using=using).applied == 20
    assert outbox.status(using=using).depth == 0
    assert timelines["riak"].get("k7") == [7]


@override_settings(TIMAK_TIMELINES={"default": MEMORY}, TIMAK_OUTBOX={"LEASE": 0.3})
def test_claimed_rows_are_not_drained_twice_until_the_lease_ends(using):
    [pk] = outbox.record([op("k", "add", 1, 10)], using=using)
    assert len(outbox._claim(None, 10, 0.3, using)) == 1  # a drain that then dies
    assert outbox.drain(using=using).applied == 0
    time.sleep(0.35)
    assert outbox.drain(using=using).applied == 1
    assert timelines["default"].get("k") == [1]


@override_settings(TIMAK_TIMELINES={"default": MEMORY})
def test_drain_and_status_commands(using):
    outbox.record([op("k", "add", 1, 10), op("k", "add", 2, 11)], using=using)
    out = io.StringIO()
    call_command("timak_status", "--json", "--database", using, stdout=out)
    figures = json.loads(out.getvalue())
    assert (figures["depth"], figures["due"], figures["failing"]) == (2, 2, {})
    out = io.StringIO()
    call_command("timak_drain", "--database", using, stdout=out)
    assert "Applied 2 operation(s)." in out.getvalue()
    assert "0 operation(s) still pending" in out.getvalue()
    out = io.StringIO()
    call_command("timak_status", "--database", using, stdout=out)
    assert "pending operations: 0" in out.getvalue() and "no failing operations" in out.getvalue()


@pytest.mark.fault
def test_the_outbox_is_on_for_networked_stores_by_default(riak_down):
    assert outbox.enabled_for("riak") and not outbox.enabled_for("default")
    with override_settings(TIMAK_OUTBOX={"ENABLED": True}):
        assert outbox.enabled_for("default")
    with override_settings(TIMAK_OUTBOX={"ENABLED": False}):
        assert not outbox.enabled_for("riak")


@override_settings(TIMAK_TIMELINES={"default": MEMORY}, TIMAK_OUTBOX={"WARN_AGE": 60})
def test_a_check_warns_when_the_outbox_falls_behind():
    from datetime import timedelta

    from django.utils import timezone

    from django_timak.checks import check_outbox_age

    outbox.record([op("k", "add", 1, 10)])
    assert check_outbox_age(databases=["default"]) == []
    PendingOperation.objects.update(created=timezone.now() - timedelta(seconds=90))
    [warning] = check_outbox_age(databases=["default"])
    assert warning.id == "django_timak.W030"
    assert warning.msg.startswith("The timeline outbox holds 1 operation(s); the oldest is 90 s old (over WARN_AGE, 60 s).")
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
def test_deliver_without_row_ids_drains_what_is_due(using):
    outbox.record([op("k", "add", 1, 10)], using=using)
    assert outbox.deliver([], using=using).applied == 1
    assert timelines["default"].get("k") == [1]
