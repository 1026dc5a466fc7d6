"""rebuild_timelines looks keys up by their parts, and writes in calls of one size: the keys stay those a save writes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from django_timak import rebuild, timelines
from django_timak.entries import Entry
from django_timak.exceptions import TimelineBackendError
from django_timak.operations import append_entries
from tests.models import Like, Post
from tests.social import follow, make_users
from tests.test_rebuild_capacity import appended, empty, run  # noqa: F401 (appended: a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clear_memory")]


def written(calls):
    """Return ``{key: sorted ids}`` over every recorded call."""
    found = {}
    for call in calls:
        for key, ids in call.items():
            found.setdefault(key, []).extend(ids)
    return {key: sorted(ids) for key, ids in found.items()}


@pytest.fixture
def posts(django_capture_on_commit_callbacks):
    alice, bob, carol = make_users("alice", "bob", "carol")
    follow(carol, alice)
    follow(bob, alice)
    start = timezone.now() - timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(6):
            Post.objects.create(author=alice, body=f"post {i}", created=start + timedelta(minutes=i))
    return alice, bob, carol


def test_recipients_equal_in_value_but_formatted_apart_get_their_own_keys(posts, appended, monkeypatch):
    _, bob, carol = posts
    field = Post.home_timeline
    # carol.pk and float(carol.pk) are equal, and one key each; True formats as "True", not as user 1.
    odd = lambda rows: {row.pk: [carol.pk, float(carol.pk), True, bob.pk, bob.pk] for row in rows}
    monkeypatch.setattr(field, "recipients_many", odd)
    expected = {key for keys in field.keys_many(list(Post.objects.all())).values() for key in keys}
    assert {f"user:{carol.pk}.0:home", "user:True:home", f"user:{carol.pk}:home"} <= expected
    empty()
    run("tests.Post")
    homes = {key: ids for key, ids in written(appended).items() if key.endswith(":home")}
    assert set(homes) == expected
    assert all(len(ids) == len(set(ids)) == 6 for ids in homes.values())  # a repeated recipient is one key


def test_a_repeated_recipient_of_a_grouped_field_is_one_key(posts, django_capture_on_commit_callbacks, appended, monkeypatch):
    alice, bob, carol = posts
    with django_capture_on_commit_callbacks(execute=True):
        for post in Post.objects.all()[:3]:
            for fan in (bob, carol):
                Like.objects.create(user=fan, post=post)
    empty()
    appended.clear()
    run("tests.Like")
    once = written(appended)
    field, real = Like.notifications, Like.notifications.recipients_many
    monkeypatch.setattr(field, "recipients_many", lambda rows: {pk: found * 2 for pk, found in real(rows).items()})
    empty()
    appended.clear()
    run("tests.Like")
    assert written(appended) == once and once[f"user:{alice.pk}:notifications"]


def test_writes_go_in_calls_of_at_most_write_keys_keys_and_show_the_same_timelines(posts, appended, monkeypatch):
    empty()
    run("tests.Post")
    whole = written(appended)
    monkeypatch.setattr(rebuild, "WRITE_KEYS", 2)
    empty()
    appended.clear()
    run("tests.Post")
    assert written(appended) == whole and len(whole) > 2
    assert max(len(call) for call in appended) == 2


def test_append_entries_fails_only_a_bad_value_s_key_and_every_key_of_a_store_that_is_down():
    good, bad = Entry("a", 1, 10), Entry("b", 2, -5)  # a negative clock is refused
    down = {}
    failures = append_entries("memory", {"good": [good], "bad": [bad]}, workers=4, down=down)
    assert [key for key, _ in failures] == ["bad"] and not down
    assert [e.id for e in timelines["memory"].get("good", raw=True)] == ["a"]
    error = TimelineBackendError("down")
    down["memory"] = error
    assert append_entries("memory", {"good": [good], "other": [good]}, workers=4, down=down) == [("good", error), ("other", error)]
    assert timelines["memory"].get("other", raw=True) == []
