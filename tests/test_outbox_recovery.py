"""After an outage, one drain finishes the work: a store that answers again releases what waits for it."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from django_timak import outbox, timelines
from django_timak.models import PendingOperation
from tests.models import Post
from tests.social import follow, make_users

pytestmark = pytest.mark.django_db(transaction=True)

SWITCHABLE = {
    "default": {"BACKEND": "tests.backends.SwitchableBackend", "MAX_ITEMS": 100},
    "memory": {"BACKEND": "django_timak.backends.memory.MemoryBackend", "MAX_ITEMS": 100},
}


@pytest.fixture
def store():
    """The "default" timeline on a store that can go down; retries back off for a minute."""
    with override_settings(TIMAK_TIMELINES=SWITCHABLE, TIMAK_OUTBOX={"BACKOFF": 60.0, "MAX_BACKOFF": 600.0}):
        yield timelines["default"].backend


def everything(store):
    """Return every visible timeline as (id, score, data): a rebuild re-stamps clocks, nothing else."""
    return {key: [(e.id, e.score, e.data) for e in timelines["default"].get(key, raw=True)] for key in store.keys()}


def drain_command():
    out = io.StringIO()
    call_command("timak_drain", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_one_drain_after_an_outage_applies_everything_and_matches_a_rebuild(store):
    alice, bob, carol = make_users("alice", "bob", "carol")
    follow(bob, alice)
    follow(carol, alice)
    store.down = True
    start = timezone.now() - timedelta(hours=1)
    posts = [Post.objects.create(author=alice, body=f"post {n}", created=start + timedelta(minutes=n)) for n in range(40)]
    posts[3].delete()
    posts[5].published = False
    posts[5].save()
    assert outbox.status().due == 0 and outbox.status().depth > 40  # everything postponed, nothing due
    store.down = False
    assert "0 change(s) still pending, 0 due now." in drain_command()
    drained = everything(store)
    assert len(drained[f"user:{bob.pk}:home"]) == 38
    call_command("rebuild_timelines", stdout=io.StringIO())
    assert everything(store) == drained


def test_a_drain_while_the_store_is_still_down_leaves_the_backoff_alone(store):
    (alice,) = make_users("alice")
    store.down = True
    Post.objects.create(author=alice, body="lost?")
    due = list(PendingOperation.objects.values_list("due", flat=True))
    assert "Applied 0 change(s)" in drain_command()
    assert list(PendingOperation.objects.values_list("due", flat=True)) == due


def test_a_save_that_reaches_the_store_releases_what_waited_for_it(store):
    (alice,) = make_users("alice")
    store.down = True
    Post.objects.create(author=alice, body="while down")
    store.down = False
    Post.objects.create(author=alice, body="back up")  # its delivery succeeds, and retries as much as it did
    assert outbox.status().depth == 0
    assert len(timelines["default"].get(f"user:{alice.pk}:posts")) == 2
