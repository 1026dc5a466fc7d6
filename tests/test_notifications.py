"""Notification feeds end to end: likes grouped by post through every delivery path, hydrated pages, unread counts."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from django_timak import Timeline, fanout, groups, notifications, outbox, timelines
from django_timak.backends.riak import RiakBackend
from django_timak.entries import Entry
from tests.models import Like, Post
from tests.social import make_users

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clear_memory")]


@pytest.fixture
def site():
    author, ann, bob, cat = make_users("author", "ann", "bob", "cat")
    first = Post.objects.create(author=author, body="first")
    second = Post.objects.create(author=author, body="second")
    return author, (ann, bob, cat), (first, second)


def feed(user, alias="default"):
    """Return ``[(group id, [actor usernames], actor count)]`` of a user's notifications."""
    page = notifications.page(alias, f"user:{user.pk}:notifications", limit=50)
    return [(item.id, [a.username for a in item.actors], item.actor_count) for item in page.items]


@pytest.mark.parametrize("alias", ["default", "memory"])
def test_likes_of_one_post_are_one_item_with_their_actors_newest_first(site, alias):
    author, (ann, bob, cat), (first, second) = site
    for user in (ann, bob, cat):
        Like.objects.create(user=user, post=first)
    Like.objects.create(user=ann, post=second)
    assert feed(author, alias) == [
        (f"like:{second.pk}", ["ann"], 1),
        (f"like:{first.pk}", ["cat", "bob", "ann"], 3),
    ]


def test_the_same_actor_liking_twice_counts_once_and_an_unlike_of_one_keeps_the_other(site):
    author, (ann, bob, _), (first, _) = site
    one = Like.objects.create(user=ann, post=first)
    Like.objects.create(user=ann, post=first)
    Like.objects.create(user=bob, post=first)
    assert feed(author) == [(f"like:{first.pk}", ["bob", "ann"], 2)]
    one.delete()
    assert feed(author) == [(f"like:{first.pk}", ["bob", "ann"], 2)]


def test_an_unlike_removes_its_actor_and_the_last_unlike_removes_the_item(site):
    author, (ann, bob, _), (first, _) = site
    likes = [Like.objects.create(user=user, post=first) for user in (ann, bob)]
    likes[1].delete()
    assert feed(author) == [(f"like:{first.pk}", ["ann"], 1)]
    likes[0].delete()
    assert feed(author) == []


def test_a_like_moved_to_another_post_leaves_the_first_group(site):
    author, (ann, _, _), (first, second) = site
    like = Like.objects.create(user=ann, post=first)
    like.post = second
    like.save()
    assert feed(author) == [(f"like:{second.pk}", ["ann"], 1)]


def test_the_count_covers_every_actor_and_only_the_shown_ones_are_hydrated(site):
    author, _, (first, _) = site
    fans = make_users(*(f"fan{i}" for i in range(6)))
    for fan in fans:
        Like.objects.create(user=fan, post=first)
    with CaptureQueriesContext(connection) as queries:
        page = notifications.page("default", f"user:{author.pk}:notifications", shown=2)
    [item] = page.items
    assert ([a.username for a in item.actors], item.actor_count, item.others) == (["fan5", "fan4"], 6, 4)
    assert item.target == first
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    # The feed and its marks, then one query per model: users (actors) and posts (targets).
    assert len(selects) == 4


@pytest.mark.parametrize(
    "deferred",
    [{"TIMAK_OUTBOX": {"ENABLED": True}}, {"TIMAK_FANOUT": {"RUN": "task"}}],
    ids=["outbox", "task"],
)
def test_likes_recorded_for_a_worker_group_the_same(site, deferred):
    author, (ann, bob, _), (first, _) = site
    with override_settings(**deferred):
        with fanout.batched():
            likes = [Like.objects.create(user=user, post=first) for user in (ann, bob)]
        likes[0].delete()
        outbox.drain_all()
    assert feed(author) == [(f"like:{first.pk}", ["bob"], 1)]


def test_rebuild_timelines_regroups_the_likes(site):
    author, (ann, bob, cat), (first, second) = site
    for user, post in ((ann, first), (bob, first), (cat, second)):
        Like.objects.create(user=user, post=post)
    before = feed(author)
    timelines["default"].clear(f"user:{author.pk}:notifications")
    call_command("rebuild_timelines", "tests.Like", stdout=io.StringIO())
    assert feed(author) == before


def test_concurrent_likes_from_two_writers_are_both_kept_as_siblings():
    timeline = timelines["memory"]
    key = "user:1:notifications"
    timeline.add(key, "like:1", 10, groups.change("tests.like:1", "tests.user:1"))
    # Two writers append to the same group without reading: two siblings.
    timeline.append_changes({key: [Entry("like:1", 12, 5, groups.change("tests.like:2", "tests.user:2"))]})
    timeline.append_changes({key: [Entry("like:1", 11, 4, groups.change("tests.like:3", "tests.user:3"))]})
    assert len(timeline.backend.read(key).values) == 3
    [group] = timeline.get(key, raw=True)
    assert groups.actors(group) == ["tests.user:2", "tests.user:3", "tests.user:1"]


def test_a_group_that_falls_off_the_bounded_feed_comes_back_with_its_new_actors_only():
    timeline = timelines["memory"]
    key = "user:1:notifications"
    timeline.add(key, "like:0", 1, groups.change("tests.like:0", "tests.user:0"))
    timeline.add_many(key, [(f"like:{n}", 10 + n, groups.change(f"tests.like:{n}", "tests.user:1")) for n in range(1, 101)])
    assert "like:0" not in [e.id for e in timeline.get(key, raw=True)]
    timeline.add(key, "like:0", 500, groups.change("tests.like:500", "tests.user:5"))
    top = timeline.get(key, raw=True)[0]
    assert (top.id, groups.actors(top)) == ("like:0", ["tests.user:5"])


def test_unread_and_unseen_counts_follow_the_marks(site):
    author, (ann, bob, cat), (first, second) = site
    key = f"user:{author.pk}:notifications"
    Like.objects.create(user=ann, post=first)
    Like.objects.create(user=bob, post=second)
    assert notifications.unread_count("default", key) == notifications.Unread(2, 2)
    page = notifications.page("default", key)
    notifications.mark_seen("default", key, page.newest_score)
    assert notifications.unread_count("default", key) == notifications.Unread(2, 0)
    opened = page.items[0]
    notifications.mark_read("default", key, {opened.id: opened.score})
    assert notifications.unread_count("default", key) == notifications.Unread(1, 0)
    assert [i.unread for i in notifications.page("default", key).items] == [False, True]
    # A new like on the opened post makes it unread and unseen again.
    Like.objects.create(user=cat, post=second)
    assert notifications.unread_count("default", key) == notifications.Unread(2, 1)
    notifications.mark_read("default", key, up_to=notifications.page("default", key).newest_score)
    assert notifications.unread_count("default", key) == notifications.Unread(0, 1)


def test_a_mark_racing_a_new_item_never_hides_it(site):
    author, (ann, bob, _), (first, second) = site
    key = f"user:{author.pk}:notifications"
    Like.objects.create(user=ann, post=first)
    shown = notifications.page("default", key)
    Like.objects.create(user=bob, post=second)  # lands after the page was read, before the mark
    notifications.mark_seen("default", key, shown.newest_score)
    notifications.mark_read("default", key, up_to=shown.newest_score)
    assert notifications.unread_count("default", key) == notifications.Unread(1, 1)


def test_concurrent_marks_from_two_tabs_both_count(site):
    author, (ann, bob, _), (first, second) = site
    key = f"user:{author.pk}:notifications"
    Like.objects.create(user=ann, post=first)
    Like.objects.create(user=bob, post=second)
    older, newer = reversed(notifications.page("default", key).items)
    # The tab that saw less marks last: the join keeps the higher mark.
    notifications.mark_seen("default", key, newer.score)
    notifications.mark_seen("default", key, older.score)
    notifications.mark_read("default", key, {older.id: older.score})
    notifications.mark_read("default", key, {newer.id: newer.score})
    assert notifications.unread_count("default", key) == notifications.Unread(0, 0)
    assert len(timelines["default"].backend.read(notifications.marks_key(key)).values) == 4


def test_the_unread_count_decodes_only_what_is_above_the_marks(site, monkeypatch):
    author, (ann, bob, _), (first, second) = site
    key = f"user:{author.pk}:notifications"
    Like.objects.create(user=ann, post=first)
    Like.objects.create(user=bob, post=second)
    timelines["default"]._compact(key)  # one value: the largest, decoded only down to the marks
    older = notifications.page("default", key).entries[1].score
    notifications.mark_seen("default", key, older)
    notifications.mark_read("default", key, up_to=older)
    decoded = []
    real = notifications.codecs.decode_newer
    monkeypatch.setattr(notifications.codecs, "decode_newer", lambda v, f: decoded.append(real(v, f)) or decoded[-1])
    assert notifications.unread_count("default", key) == notifications.Unread(1, 1)
    assert [[e.id for e in found] for found in decoded] == [[f"like:{second.pk}"]]


def test_on_riak_two_writers_appending_to_one_group_leave_siblings_that_a_read_joins(riak_url, riak_bucket):
    timeline = Timeline(RiakBackend(riak_url, bucket=riak_bucket), max_items=100)
    key = "user:1:notifications"
    timeline.append_changes({key: [Entry("like:1", 10, 3, groups.change("tests.like:1", "tests.user:1"))]})
    timeline.append_changes({key: [Entry("like:1", 11, 4, groups.change("tests.like:2", "tests.user:2"))]})
    timeline.append_changes({key: [Entry("like:1", 12, 6, groups.change("tests.like:3", "tests.user:3"))]})
    timeline.append_changes({key: [Entry("tests.like:3", 0, 7, None, True)]})  # the newest like's unlike
    assert len(timeline.backend.read(key).values) == 4
    [group] = timeline.get(key, raw=True)
    assert (groups.actors(group), group.score) == (["tests.user:2", "tests.user:1"], 11)
