"""Erasing a user through Django: ``erasure.erase_actor`` on every alias, and ``manage.py timak_erase``."""

import io

import pytest
from django.core.management import CommandError, call_command

from django_timak import erasure, notifications, timelines
from django_timak.exceptions import InvalidTimelineInput
from tests.models import Like, Post, Remark
from tests.social import follow, make_users

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clear_memory")]


@pytest.fixture
def site():
    """gone and kept each remark three times; reader follows both; gone and ann like reader's post."""
    gone, kept, reader, ann = make_users("gone", "kept", "reader", "ann")
    follow(reader, gone)
    follow(reader, kept)
    for n in range(3):
        Remark.objects.create(author=gone, body=f"gone {n}")
        Remark.objects.create(author=kept, body=f"kept {n}")
    post = Post.objects.create(author=reader, body="mine")
    Like.objects.create(user=ann, post=post)
    Like.objects.create(user=gone, post=post)
    return gone, kept, reader, post


def home(reader):
    return timelines["default"].page(f"remarks:{reader.pk}:home", 50).items


def feed(reader):
    page = notifications.page("default", f"user:{reader.pk}:notifications")
    return [(item.id, [a.username for a in item.actors], item.actor_count) for item in page.items]


def holds(ref, alias):
    """Return the keys of ``alias`` whose stored bytes still name ``ref``."""
    backend = timelines[alias].backend
    found = erasure.stored_keys(timelines[alias])
    return [k for k in found if k != "timak:erased" and any(f'"{ref}"'.encode() in bytes(v) for v in backend.read(k).values)]


def test_an_erased_user_is_off_every_page_and_group_at_once(site):
    gone, kept, reader, post = site
    assert len(home(reader)) == 6 and feed(reader)[0][2] == 2
    erasure.erase_actor(gone)
    assert home(reader) == [f"tests.remark:{r.pk}" for r in Remark.objects.filter(author=kept).order_by("-created", "-pk")]
    assert timelines["default"].get(f"remarks:{gone.pk}") == []
    assert feed(reader) == [(f"like:{post.pk}", ["ann"], 1)]
    assert notifications.unread_count("default", f"user:{reader.pk}:notifications").unread == 1


def test_timak_erase_rewrites_every_value_that_held_the_user_and_reports_progress(site):
    gone, *_ = site
    ref = f"tests.user:{gone.pk}"
    assert holds(ref, "default")
    out = io.StringIO()
    call_command("timak_erase", ref, "--dry-run", stdout=out)
    assert "would rewrite" in out.getvalue() and holds(ref, "default")
    assert timelines["default"].erased_actors() == frozenset()
    out = io.StringIO()
    call_command("timak_erase", ref, verbosity=2, stdout=out)
    assert holds(ref, "default") == [] and holds(ref, "memory") == []
    assert "keys" in out.getvalue() and f"erased {ref}" in out.getvalue()
    assert ref in timelines["memory"].erased_actors()


def test_keys_on_a_store_that_cannot_list_them_come_from_the_actors_rows(site):
    gone, _, reader, _ = site
    keys = erasure.mapped_keys(f"tests.user:{gone.pk}", "default")
    assert {f"remarks:{gone.pk}", f"remarks:{reader.pk}:home", f"user:{reader.pk}:notifications"} <= keys


@pytest.mark.parametrize("bad", ["nope", "nosuch.model:1", "", "tests.user"])
def test_an_unknown_actor_is_a_command_error_and_an_invalid_input(bad):
    with pytest.raises(CommandError, match="not an actor reference"):
        call_command("timak_erase", bad, stdout=io.StringIO())
    with pytest.raises(InvalidTimelineInput):
        erasure.erase_actor(bad)
    assert timelines["default"].erased_actors() == frozenset()


def test_an_unknown_timeline_alias_is_a_command_error(site):
    with pytest.raises(CommandError, match="unknown timeline"):
        call_command("timak_erase", f"tests.user:{site[0].pk}", "--timeline", "nope", stdout=io.StringIO())
