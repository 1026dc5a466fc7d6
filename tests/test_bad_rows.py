"""One row whose data cannot be stored is reported by name and skipped; the good rows on its keys land.

On every path: inline, ``fanout.batched()``, row changes through tasks and the
outbox, and ``rebuild_timelines``. And ``TimelineField(encoder=DjangoJSONEncoder)``
stores datetimes, decimals and UUIDs as the strings a read returns.
"""

import json
import logging
import uuid
from datetime import datetime, timezone as tz
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder

from django_timak import TimelineField, fanout, timelines
from django_timak.exceptions import InvalidData
from django_timak.models import PendingOperation, StoredTimeline, TimelineDelta
from django_timak.signals import fanout_failed
from tests.models import Post
from tests.social import follow, ids, make_users, ref

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clear_memory")]

MODES = {
    "inline": {"TIMAK_FANOUT": {"RUN": "inline"}, "TIMAK_OUTBOX": {"ENABLED": False}},
    "task": {"TIMAK_FANOUT": {"RUN": "task"}, "TIMAK_OUTBOX": {"ENABLED": False}},
    "outbox": {"TIMAK_FANOUT": {"RUN": "inline"}, "TIMAK_OUTBOX": {"ENABLED": True}},
}


def home_data(post):
    """The home timeline's data, with a datetime (not JSON) for posts whose body says "bad"."""
    if post.body == "bad":
        return {"created": post.created}
    return {"body": post.body}


@pytest.fixture(params=sorted(MODES))
def mode(request, settings):
    for name, value in MODES[request.param].items():
        setattr(settings, name, value)
    return request.param


@pytest.fixture
def bad_data(monkeypatch):
    monkeypatch.setattr(Post.home_timeline, "data", home_data)


@pytest.fixture
def failures():
    sent = []

    def receiver(sender, operations, exception, **kwargs):
        sent.append((sender, exception))

    fanout_failed.connect(receiver, dispatch_uid="test_bad_rows")
    yield sent
    fanout_failed.disconnect(dispatch_uid="test_bad_rows")


@pytest.fixture
def graph():
    alice, bob = make_users("alice", "bob")
    follow(bob, alice)
    return alice, bob


def _assert_named(failures, caplog, bad):
    """Assert the bad row was reported by model label, pk, field and error, once, in the log and the signal."""
    named = [e for sender, e in failures if sender is Post and isinstance(e, InvalidData)]
    assert len(named) == 1
    message = str(named[0])
    assert f"tests.post pk={bad.pk}" in message and "'home_timeline'" in message and "datetime" in message
    assert any(f"skipped {ref(bad)}" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


@pytest.mark.usefixtures("bad_data")
def test_a_bad_row_saved_alone_is_skipped_and_named_and_its_save_succeeds(mode, graph, failures, caplog):
    alice, bob = graph
    good = Post.objects.create(author=alice, body="good")
    bad = Post.objects.create(author=alice, body="bad")
    assert Post.objects.filter(pk=bad.pk).exists()
    assert ids(f"user:{bob.pk}:home") == [ref(good)]
    assert ids(f"user:{alice.pk}:posts") == [ref(bad), ref(good)]  # a field without data is not affected
    _assert_named(failures, caplog, bad)
    assert not PendingOperation.objects.exists()  # the outbox does not retry it forever


@pytest.mark.usefixtures("bad_data")
def test_in_a_batch_five_good_rows_land_beside_the_bad_one(mode, graph, failures, caplog):
    alice, bob = graph
    with fanout.batched():
        posts = [Post.objects.create(author=alice, body=f"good {i}") for i in range(3)]
        bad = Post.objects.create(author=alice, body="bad")
        posts += [Post.objects.create(author=alice, body=f"good {i}") for i in range(3, 5)]
    assert sorted(ids(f"user:{bob.pk}:home")) == sorted(ref(post) for post in posts)
    _assert_named(failures, caplog, bad)
    assert not PendingOperation.objects.exists()


@pytest.mark.usefixtures("bad_data")
def test_an_edit_that_makes_the_data_bad_leaves_the_stored_item_alone(graph, failures):
    alice, bob = graph
    post = Post.objects.create(author=alice, body="fine")
    post.body = "bad"
    post.save()
    assert timelines["default"].get(f"user:{bob.pk}:home") == [{"body": "fine"}]
    assert len(failures) == 1


@pytest.mark.usefixtures("bad_data")
def test_rebuild_writes_every_good_row_and_names_the_bad_one(graph, failures, caplog, settings):
    settings.TIMAK_FANOUT = {"RUN": "inline"}
    alice, bob = graph
    with fanout.batched():
        posts = [Post.objects.create(author=alice, body=f"good {i}") for i in range(7)]
        bad = Post.objects.create(author=alice, body="bad")
    StoredTimeline.objects.all().delete()
    TimelineDelta.objects.all().delete()
    failures.clear()
    caplog.clear()
    call_command("rebuild_timelines", "tests.Post", verbosity=0)
    assert sorted(ids(f"user:{bob.pk}:home")) == sorted(ref(post) for post in posts)
    assert len(ids(f"user:{alice.pk}:posts")) == 8
    _assert_named(failures, caplog, bad)


def test_with_django_json_encoder_datetimes_decimals_and_uuids_read_back_as_the_strings_stored(graph, monkeypatch):
    alice, bob = graph
    when = datetime(2026, 12, 7, 5, 0, 1, 250000, tzinfo=tz.utc)
    token = uuid.UUID("12345678-1234-5678-1234-567812345678")
    monkeypatch.setattr(Post.home_timeline, "data", lambda post: {"when": when, "price": Decimal("1.50"), "token": token})
    monkeypatch.setattr(Post.home_timeline, "encoder", DjangoJSONEncoder)
    post = Post.objects.create(author=alice, body="typed")
    expected = json.loads(json.dumps({"when": when, "price": Decimal("1.50"), "token": token}, cls=DjangoJSONEncoder))
    assert expected == {"when": "2026-12-07T05:00:01.250Z", "price": "1.50", "token": str(token)}
    assert Post.home_timeline.item(post)[2] == expected  # what fan-out writes is what a read returns
    assert timelines["default"].get(f"user:{bob.pk}:home") == [expected]
    timelines["default"].get(f"user:{bob.pk}:home")  # a second read, after the merge wrote back
    assert timelines["default"].get(f"user:{bob.pk}:home") == [expected]


def test_an_encoder_that_is_not_a_json_encoder_is_refused_when_declared():
    with pytest.raises(TypeError, match="encoder must be a json.JSONEncoder subclass"):
        TimelineField("k:{pk}", score="created", encoder=lambda value: str(value))
