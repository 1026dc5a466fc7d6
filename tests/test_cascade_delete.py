"""A cascade delete is fanned out as one batch: each key appended once, however many rows it removes."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_delete
from django.test.utils import CaptureQueriesContext

from django_timak import fanout
from tests.models import Post, User
from tests.social import follow, ids, make_users, ref

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clear_memory")]


@pytest.fixture(autouse=True)
def inline(settings):
    settings.TIMAK_FANOUT = {"RUN": "inline"}


def author_with_posts(count):
    alice, bob, carol = make_users("alice", "bob", "carol")
    follow(bob, alice)
    follow(carol, alice)
    with fanout.batched():  # each key then holds one value, whatever the count
        posts = [Post.objects.create(author=alice, body=str(n)) for n in range(count)]
    return alice, (bob, carol), posts


def timeline_statements(action):
    """Return how many SQL statements ``action()`` sends to the timeline tables, and how many in all."""
    with CaptureQueriesContext(connection) as captured:
        action()
    statements = [q["sql"] for q in captured.captured_queries]
    return sum("django_timak_" in sql for sql in statements), len(statements)


def test_deleting_a_user_removes_every_post_from_the_profile_and_each_followers_home():
    alice, followers, posts = author_with_posts(12)
    assert len(ids(f"user:{alice.pk}:posts")) == 12
    alice_pk = alice.pk
    alice.delete()
    assert ids(f"user:{alice_pk}:posts") == []
    for follower in followers:
        assert ids(f"user:{follower.pk}:home") == []


def test_a_cascade_writes_the_timeline_tables_as_often_for_40_posts_as_for_4():
    small, _, _ = author_with_posts(4)
    few, _ = timeline_statements(small.delete)
    User.objects.all().delete()
    large, _, _ = author_with_posts(40)
    many, total = timeline_statements(large.delete)
    assert many == few
    # Before batching: one append per post per key, 2,177 statements for 500 posts.
    assert many < 20 and total < 4 * 40


def test_a_single_delete_still_leaves_at_once_after_commit():
    alice, (bob, _), posts = author_with_posts(2)
    posts[0].delete()
    assert ids(f"user:{alice.pk}:posts") == [ref(posts[1])]
    assert ids(f"user:{bob.pk}:home") == [ref(posts[1])]


def test_a_cascade_inside_a_transaction_is_applied_at_its_commit_and_dropped_by_its_rollback():
    alice, (bob, _), posts = author_with_posts(3)
    alice_pk = alice.pk
    with pytest.raises(RuntimeError), transaction.atomic():
        User.objects.get(pk=alice_pk).delete()
        raise RuntimeError("rolled back")
    assert len(ids(f"user:{alice_pk}:posts")) == 3
    with transaction.atomic():
        User.objects.get(pk=alice_pk).delete()
        assert len(ids(f"user:{bob.pk}:home")) == 3
    assert ids(f"user:{bob.pk}:home") == []


def test_a_delete_that_fails_half_way_leaves_everything_and_later_saves_and_deletes_still_fan_out():
    alice, (bob, _), posts = author_with_posts(3)

    def fail(sender, instance, **kwargs):
        if instance.pk == posts[1].pk:
            raise IntegrityError("refused")

    post_delete.connect(fail, sender=Post, dispatch_uid="tests.fail_one_delete")
    try:
        with pytest.raises(IntegrityError):
            Post.objects.filter(author=alice).delete()
    finally:
        post_delete.disconnect(sender=Post, dispatch_uid="tests.fail_one_delete")
    assert len(ids(f"user:{alice.pk}:posts")) == 3
    fresh = Post.objects.create(author=alice, body="after")
    assert ids(f"user:{bob.pk}:home")[0] == ref(fresh)
    Post.objects.filter(pk__in=[posts[0].pk, posts[1].pk]).delete()
    assert ids(f"user:{alice.pk}:posts") == [ref(fresh), ref(posts[2])]
