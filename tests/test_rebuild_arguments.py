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


def move_alices_posts_to_bob(posts):
    """Move every post of Alice to Bob with QuerySet.update(), which sends no signals."""
    alice, bob = posts
    moved = {f"tests.post:{pk}" for pk in Post.objects.filter(author=alice).values_list("pk", flat=True)}
    Post.objects.filter(author=alice).update(author=bob)
    return alice, bob, moved


def test_prune_takes_moved_posts_off_the_old_authors_profile_and_rebuild_puts_them_on_the_new(posts):
    alice, bob, moved = move_alices_posts_to_bob(posts)
    old, new = f"user:{alice.pk}:posts", f"user:{bob.pk}:posts"
    assert moved <= ids("default", old) and moved <= ids("memory", old)
    rebuild("tests.Post", clear=True)
    assert moved <= ids("default", old)  # --clear alone never meets a key no row maps to
    out = rebuild("tests.Post", prune=True)
    assert "Removed 8 item(s) from 2 key(s) their rows no longer map to." in out  # 4 posts, two aliases
    photos = {f"tests.photo:{pk}" for pk in Photo.objects.values_list("pk", flat=True)}
    assert ids("default", old) == photos and ids("memory", old) == set()
    assert moved <= ids("default", new) and moved <= ids("memory", new)
    assert "Removed 0 item(s) from 0 key(s)" in rebuild("tests.Post", prune=True)


def test_prune_removes_the_items_of_rows_that_no_longer_exist(posts):
    alice, _ = posts
    gone = Post.objects.filter(author=alice).first()
    Post.objects.filter(pk=gone.pk)._raw_delete(Post.objects.db)  # no signals
    rebuild("tests.Post", prune=True)
    assert f"tests.post:{gone.pk}" not in ids("default", f"user:{alice.pk}:posts")
    assert f"tests.post:{gone.pk}" not in ids("memory", f"user:{alice.pk}:posts")


def test_prune_with_dry_run_reports_what_it_would_remove_and_writes_nothing(posts):
    alice, _, moved = move_alices_posts_to_bob(posts)
    before = written()
    out = rebuild("tests.Post", prune=True, dry_run=True, verbosity=2)
    assert "Would remove 8 item(s) from 2 key(s) their rows no longer map to." in out
    assert f"default:'user:{alice.pk}:posts': would remove 4 item(s)" in out
    assert written() == before and moved <= ids("default", f"user:{alice.pk}:posts")


def test_prune_is_silent_at_verbosity_zero(posts):
    move_alices_posts_to_bob(posts)
    assert rebuild("tests.Post", prune=True, verbosity=0) == ""


@pytest.fixture(params=["unreachable", "riak"])
def listless(request):
    """``(TIMAK_TIMELINES, store name)`` whose "memory" alias is a store that cannot list its keys."""
    if request.param == "riak":
        riak_url, bucket = request.getfixturevalue("riak_url"), request.getfixturevalue("riak_bucket")
        memory = {"BACKEND": "django_timak.backends.riak.RiakBackend", "OPTIONS": {"URL": riak_url, "BUCKET": bucket}}
        name = "RiakBackend"
    else:
        memory, name = {"BACKEND": "tests.backends.UnreachableBackend"}, "UnreachableBackend"
    return {"default": {"BACKEND": "django_timak.backends.db.DatabaseBackend"}, "memory": memory}, name


def test_prune_on_a_store_that_cannot_list_its_keys_is_refused_before_anything_is_written(posts, listless):
    settings, store = listless
    move_alices_posts_to_bob(posts)
    before = StoredTimeline.objects.count(), TimelineDelta.objects.count()
    with override_settings(TIMAK_TIMELINES=settings):
        refused = rf"^--prune reads every key stored in timeline 'memory', and its store \({store}\) cannot list its keys"
        with pytest.raises(CommandError, match=refused):
            rebuild("tests.Post", prune=True)
    assert (StoredTimeline.objects.count(), TimelineDelta.objects.count()) == before
