"""A delete is never lost on any path: inline, batched, cascades, the outbox, tasks and rebuild.

Each test deletes more rows at once than ``max_tombstones`` (100 for ``MAX_ITEMS``
1000) and finds none of them left on the profile or a follower's home.
"""

import io

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from django_timak import fanout, outbox, timelines
from tests.models import Post
from tests.social import follow, ids, make_users

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clear_memory")]

MEMORY = {"BACKEND": "django_timak.backends.memory.MemoryBackend", "MAX_ITEMS": 100}
SWITCHABLE = {"BACKEND": "tests.backends.SwitchableBackend", "MAX_ITEMS": 1000}


def posts_by(author, count):
    with fanout.batched():
        for i in range(count):
            Post.objects.create(author=author, body=f"post {i}", created=timezone.now())


@pytest.fixture
def pair():
    author, reader = make_users("author", "reader")
    follow(reader, author)
    return author, reader


def keys(author, reader):
    return [f"user:{author.pk}:posts", f"user:{reader.pk}:home"]


@pytest.mark.parametrize("run", ["inline", "task"])
def test_a_queryset_delete_of_250_posts_inside_batched_leaves_none(pair, settings, run):
    settings.TIMAK_FANOUT = {"RUN": run}
    author, reader = pair
    keep = Post.objects.create(author=make_users("other")[0], body="other")
    posts_by(author, 250)
    assert len(ids(keys(author, reader)[0])) == 250
    with fanout.batched():
        Post.objects.filter(author=author).delete()
    for key in keys(author, reader):
        assert ids(key) == []
    assert timelines["default"].get(f"user:{keep.author_id}:posts")


def test_a_cascading_user_delete_inside_batched_leaves_none_of_their_posts(pair):
    author, reader = pair
    posts_by(author, 150)
    with fanout.batched():
        author.delete()
    assert ids(f"user:{reader.pk}:home") == []


def test_150_deletes_recorded_while_the_store_is_down_are_all_applied_once_drained(pair):
    author, reader = pair
    with override_settings(TIMAK_TIMELINES={"default": SWITCHABLE, "memory": MEMORY}, TIMAK_OUTBOX={"BACKOFF": 0, "MAX_BACKOFF": 0}):
        posts_by(author, 150)
        outbox.drain_all()
        assert len(ids(keys(author, reader)[1])) == 150
        store = timelines["default"].backend
        store.down = True
        with fanout.batched():
            Post.objects.filter(author=author).delete()
        assert outbox.status().depth > 0
        store.down = False
        assert outbox.drain_all().failed == 0
        for key in keys(author, reader):
            assert ids(key) == []


def test_a_rebuild_after_a_mass_delete_brings_none_back_and_keeps_the_rest(pair):
    author, reader = pair
    posts_by(author, 200)
    survivors = list(Post.objects.filter(author=author).order_by("-pk").values_list("pk", flat=True)[:20])
    with fanout.batched():
        Post.objects.filter(author=author).exclude(pk__in=survivors).delete()
    call_command("rebuild_timelines", "tests.Post", stdout=io.StringIO(), stderr=io.StringIO())
    for key in keys(author, reader):
        assert sorted(ids(key)) == sorted(f"tests.post:{pk}" for pk in survivors)
