"""rebuild_timelines arguments: app labels, repeated labels, and --prune of items whose row moved away."""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from django_timak import timelines
from django_timak.models import StoredTimeline, TimelineDelta
from tests.models import Photo, Post
from tests.social import make_users

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clear_memory")]


@pytest.fixture
def posts(django_capture_on_commit_callbacks):
    """Alice's 4 posts and 2 photos, Bob's 1 post, saved through fan-out."""
    alice, bob = make_users("alice", "bob")
    start = timezone.now() - timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(4):
            Post.objects.create(author=alice, body=f"post {i}", created=start + timedelta(minutes=i))
        Post.objects.create(author=bob, body="bob's", created=start)
        for i in range(2):
            Photo.objects.create(owner=alice, caption=f"photo {i}", taken=start + timedelta(minutes=i))
    return alice, bob


def rebuild(*args, **options):
    out = io.StringIO()
    call_command("rebuild_timelines", *args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def summary(out):
    """Return (rows, models) of the summary line."""
    found = re.search(r"items from (\d+) rows of (\d+) model\(s\)", out)
    return int(found[1]), int(found[2])


def ids(alias, key):
    return {e.id for e in timelines[alias].get(key, raw=True)}


def written():
    return StoredTimeline.objects.count(), TimelineDelta.objects.count(), timelines["memory"].backend.keys()


def test_an_app_label_rebuilds_every_timeline_model_of_that_app(posts):
    everything = summary(rebuild("tests.Post", "tests.Photo", "tests.Note", "tests.Like", "tests.Remark"))
    assert summary(rebuild("tests")) == everything == (7, 5)


def test_a_model_named_twice_is_rebuilt_once():
    assert summary(rebuild("tests.Post", "tests.Post"))[1] == 1


def test_an_app_label_and_one_of_its_models_name_that_model_once(posts):
    assert summary(rebuild("tests", "tests.Post")) == summary(rebuild("tests"))
    assert summary(rebuild("tests.Post", "tests.post")) == (5, 1)


def test_an_app_without_timeline_models_is_a_command_error_with_a_sentence():
    with pytest.raises(CommandError, match=r"^app 'auth' has no model that declares a TimelineField$"):
        rebuild("auth")


def test_an_unknown_app_label_is_a_command_error_with_a_sentence():
    with pytest.raises(CommandError, match=r"^no installed app has the label 'blog' \(models are named app_label.Model, apps by their label\)$"):
        rebuild("blog")
