"""Deleting a user erases them: their items leave every page at once, and their rows fan out nothing."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from django_timak import fanout, timelines
from tests.models import Post, Remark, User
from tests.social import follow, make_users, ref

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clear_memory")]


@pytest.fixture(autouse=True)
def inline(settings):
    settings.TIMAK_FANOUT = {"RUN": "inline"}


def shown(key):
    return [entry.id for entry in timelines["default"].page(key, limit=100).entries]


def remarker(count):
    alice, bob, carol = make_users("alice", "bob", "carol")
    follow(bob, alice)
    with fanout.batched():
        remarks = [Remark.objects.create(author=alice, body=str(n)) for n in range(count)]
        kept = Remark.objects.create(author=bob, body="bob's")
    return alice, bob, remarks, kept


def test_deleting_a_user_takes_their_items_off_their_profile_and_every_followers_home_at_once():
    alice, bob, remarks, kept = remarker(5)
    assert len(shown(f"remarks:{bob.pk}:home")) == 5
    alice_pk = alice.pk
    alice.delete()
    assert shown(f"remarks:{alice_pk}") == []
    assert shown(f"remarks:{bob.pk}:home") == []
    assert shown(f"remarks:{bob.pk}") == [ref(kept)]
    assert f"tests.user:{alice_pk}" in timelines["default"].erased_actors()


def test_the_request_that_deletes_a_user_costs_as_much_for_40_rows_as_for_4():
    def cost(count):
        alice, *_ = remarker(count)
        with CaptureQueriesContext(connection) as captured:
            alice.delete()
        User.objects.all().delete()
        return [q["sql"] for q in captured.captured_queries]

    few, many = cost(4), cost(40)
    timak = lambda statements: [sql for sql in statements if "django_timak_" in sql]  # noqa: E731
    assert len(timak(many)) == len(timak(few))
    # No recipients looked up per row: only the delete's own statements grow with the rows.
    assert len(many) - len(few) < 40


def test_a_queryset_delete_of_users_erases_each_of_them():
    alice, bob, remarks, kept = remarker(3)
    alice_pk = alice.pk
    User.objects.filter(pk__in=[alice.pk, bob.pk]).delete()
    assert shown(f"remarks:{alice_pk}") == [] and shown(f"remarks:{bob.pk}") == []


def test_rows_that_name_no_actor_still_fan_out_their_deletes():
    alice, bob = make_users("alice", "bob")
    follow(bob, alice)
    Post.objects.create(author=alice, body="plain")
    alice.delete()
    assert shown(f"user:{bob.pk}:home") == []


def test_a_rolled_back_user_delete_erases_nobody():
    alice, bob, remarks, kept = remarker(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        alice.delete()
        raise RuntimeError("rolled back")
    assert f"tests.user:{alice.pk}" not in timelines["default"].erased_actors()
    assert len(shown(f"remarks:{bob.pk}:home")) == 2
