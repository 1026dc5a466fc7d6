"""rebuild_timelines writes at most a key's capacity: newest rows first, full keys skip older rows, as fan-out shows."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from django_timak import notifications, rebuild, timelines
from django_timak.models import StoredTimeline, TimelineDelta
from django_timak.timeline import Timeline
from tests.models import Like, Post
from tests.social import follow, make_users, ref

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clear_memory")]

SMALL = {
    "default": {"BACKEND": "django_timak.backends.db.DatabaseBackend", "MAX_ITEMS": 4},
    "memory": {"BACKEND": "django_timak.backends.memory.MemoryBackend", "MAX_ITEMS": 4},
}


@pytest.fixture
def small():
    with override_settings(TIMAK_TIMELINES=SMALL):
        yield


@pytest.fixture
def appended(monkeypatch):
    """Record every ``append_changes`` call as ``{key: [entry ids]}``."""
    calls = []
    real = Timeline.append_changes

    def recording(self, changes):
        calls.append({key: [entry.id for entry in entries] for key, entries in changes.items()})
        return real(self, changes)

    monkeypatch.setattr(Timeline, "append_changes", recording)
    return calls


def empty():
    StoredTimeline.objects.all().delete()
    TimelineDelta.objects.all().delete()
    timelines["memory"].backend.clear()


def run(*args, **options):
    call_command("rebuild_timelines", *args, stdout=io.StringIO(), stderr=io.StringIO(), **options)


def visible():
    """Return every visible timeline as (id, score, data) lists, per alias and key."""
    keys = set(StoredTimeline.objects.values_list("key", flat=True)) | set(TimelineDelta.objects.values_list("key", flat=True))
    found = {("default", key): timelines["default"].get(key, raw=True) for key in keys}
    found.update({("memory", key): timelines["memory"].get(key, raw=True) for key in timelines["memory"].backend.keys()})
    return {where: [(e.id, e.score, e.data) for e in entries] for where, entries in found.items() if entries}


@pytest.fixture
def posted(small, django_capture_on_commit_callbacks):
    """Alice and Bob, followed by Carol, post 10 each through fan-out; scores run in pairs of ties."""
    alice, bob, carol = make_users("alice", "bob", "carol")
    follow(carol, alice)
    follow(carol, bob)
    start = timezone.now() - timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(20):
            Post.objects.create(author=(alice, bob)[i % 2], body=f"post {i}", created=start + timedelta(minutes=i // 3))
    return alice, bob, carol


def test_the_rebuild_shows_what_fanout_on_save_showed_with_ties_at_the_cut_off(posted):
    saved = visible()
    assert len(saved) == 2 * 2 + 1 and all(len(items) == 4 for items in saved.values())
    empty()
    run()
    assert visible() == saved
    run()
    assert visible() == saved


def test_a_full_key_receives_at_most_its_capacity_and_ties_at_the_cut_off_land(posted, appended):
    alice, _, carol = posted
    empty()
    run("tests.Post")
    [call] = [c for c in appended if f"user:{carol.pk}:home" in c]
    home = call[f"user:{carol.pk}:home"]
    posts = sorted(Post.objects.all(), key=lambda p: (p.created, p.pk), reverse=True)
    # Newest first: two posts, then three that tie the fourth newest: five land, not 20.
    assert home == [ref(p) for p in sorted(posts[:5], key=lambda p: (-p.created.timestamp(), p.pk))]
    assert posts[4].created == posts[3].created != posts[5].created
    profile = call[f"user:{alice.pk}:posts"]
    mine = [p for p in posts if p.author_id == alice.pk]
    assert sorted(profile) == sorted(ref(p) for p in mine if p.created >= mine[3].created) and len(profile) <= 5


def test_grouped_fields_count_groups_and_keep_every_member_of_an_accepted_group(small, django_capture_on_commit_callbacks, appended):
    author, *fans = make_users("author", "ann", "bob", "cy", "dee", "eve", "fay")
    start = timezone.now() - timedelta(days=1)
    posts = [Post.objects.create(author=author, body=f"p{i}", created=start) for i in range(6)]
    with django_capture_on_commit_callbacks(execute=True):
        for n, post in enumerate(posts):  # the later a post, the newer its likes; each liked by 3 fans
            for k, fan in enumerate(fans[n % 4 : n % 4 + 3]):
                Like.objects.create(user=fan, post=post, created=start + timedelta(minutes=10 * n + k))
    key = f"user:{author.pk}:notifications"
    saved = [(item.id, item.actor_count) for item in notifications.page("default", key, limit=10).items]
    empty()
    appended.clear()
    run("tests.Like")
    default, memory = [c[key] for c in appended if key in c]  # the field on each alias
    written = default
    assert memory == default
    assert sorted(set(written)) == sorted(f"like:{post.pk}" for post in posts[2:])  # 4 groups, the newest
    assert len(written) == 4 * 3  # every member of them
    assert [(item.id, item.actor_count) for item in notifications.page("default", key, limit=10).items] == saved


def test_what_is_held_is_written_when_it_reaches_the_memory_bound(posted, appended):
    _, _, carol = posted
    saved = visible()
    empty()
    engine = rebuild.Rebuild(batch_size=5, memory=1)
    engine.model(Post, Post.timeline_fields())
    homes = [c[f"user:{carol.pk}:home"] for c in appended if f"user:{carol.pk}:home" in c]
    assert [len(ids) for ids in homes] == [5]  # the first chunk fills the key; later ones skip it
    # A flush after each of the two chunks that held anything (then every key is full), one call per alias.
    assert len(appended) == 2 * 2
    assert visible() == saved


def test_a_row_that_vanishes_while_its_flush_is_written_is_deleted_again(posted, monkeypatch):
    alice, _, carol = posted
    empty()
    newest = Post.objects.filter(author=alice).latest("created", "pk")
    real = Timeline.append_changes
    vanished = []

    def racing(self, changes):
        if not vanished:  # the row's delete commits while the flush is written; its own fan-out lost
            vanished.append(Post.objects.filter(pk=newest.pk)._raw_delete(newest._state.db))
        return real(self, changes)

    monkeypatch.setattr(Timeline, "append_changes", racing)
    run("tests.Post")
    for alias, key in [("default", f"user:{alice.pk}:posts"), ("memory", f"user:{alice.pk}:posts"), ("default", f"user:{carol.pk}:home")]:
        assert ref(newest) not in [e.id for e in timelines[alias].get(key, raw=True)], (alias, key)
