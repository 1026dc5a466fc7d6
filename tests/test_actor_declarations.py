"""TimelineField(actor=...): who an item is by, stored in every entry its row writes, on every path."""

import pytest
from django.core import checks
from django.core.management import call_command
from django.db import models
from django.test.utils import isolate_apps

from django_timak import TimelineField, TimelineMixin, fanout, timelines
from django_timak.checks import check_declarations
from tests.models import Post, Remark, User
from tests.social import follow, make_users, ref

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clear_memory")]


def actors(key, alias="default"):
    return [(entry.id, entry.actor) for entry in timelines[alias].get(key, raw=True)]


@pytest.fixture(params=["inline", "task"], autouse=True)
def run_mode(request, settings):
    settings.TIMAK_FANOUT = {"RUN": request.param}
    return request.param


def test_a_rows_entries_carry_its_authors_reference_on_its_own_key_and_every_followers():
    alice, bob = make_users("alice", "bob")
    follow(bob, alice)
    remark = Remark.objects.create(author=alice, body="hi")
    assert actors(f"remarks:{alice.pk}") == [(ref(remark), ref(alice))]
    assert actors(f"remarks:{bob.pk}:home") == [(ref(remark), ref(alice))]


def test_the_actor_is_read_from_the_foreign_keys_id_without_a_query(django_assert_num_queries):
    alice = User.objects.create(username="alice")
    remark = Remark.objects.get(pk=Remark.objects.create(author=alice, body="x").pk)
    with django_assert_num_queries(0):
        assert Remark.profile.item_with_actor(remark)[3] == f"tests.user:{alice.pk}"


def test_an_edit_that_moves_a_row_to_another_author_changes_its_actor():
    alice, bob = make_users("alice", "bob")
    remark = Remark.objects.create(author=alice, body="x")
    remark.author = bob
    remark.save()
    assert actors(f"remarks:{alice.pk}") == []
    assert actors(f"remarks:{bob.pk}") == [(ref(remark), ref(bob))]


def test_a_field_without_actor_stores_none_and_a_callable_actor_may_return_a_row_or_a_reference():
    alice = User.objects.create(username="alice")
    post = Post.objects.create(author=alice, body="x")
    assert actors(f"user:{alice.pk}:posts") == [(ref(post), None)]
    by_row = TimelineField("k", score="created", actor=lambda row: row.author)
    by_ref = TimelineField("k", score="created", actor=lambda row: "custom:7")
    assert by_row.item_with_actor(post)[3] == ref(alice)
    assert by_ref.item_with_actor(post)[3] == "custom:7"
    assert by_row.item(post) == (ref(post), by_row.item_with_actor(post)[1], None)


def test_rebuild_fills_the_actor_in_on_entries_written_before_the_field_named_it(run_mode):
    alice = User.objects.create(username="alice")
    with fanout.batched():
        remarks = [Remark.objects.create(author=alice, body=str(n)) for n in range(3)]
    key = f"remarks:{alice.pk}"
    stored = timelines["default"]
    # As a row declared before actor= left them: the same item, no actor.
    stored.clear(key)
    stored.add_many(key, [Remark.profile.item(remark) for remark in remarks])
    assert {actor for _, actor in actors(key)} == {None}
    call_command("rebuild_timelines", "tests.Remark", verbosity=0)
    assert sorted(actors(key)) == sorted((ref(remark), ref(alice)) for remark in remarks)


def test_an_add_equal_in_score_and_data_but_not_in_actor_is_written():
    stored = timelines["memory"]
    stored.add("k", "a", 5)
    clock = stored.get("k", raw=True)[0].clock
    from django_timak.entries import Entry

    stored.append_changes({"k": [Entry("a", 5, clock + 1, None, False, "tests.user:1")]})
    assert actors("k", "memory") == [("a", "tests.user:1")]


@isolate_apps("tests")
def test_an_actor_naming_no_foreign_key_is_error_e026_on_a_field_that_is_not_grouped():
    class Shout(TimelineMixin, models.Model):
        created = models.DateTimeField()
        body = models.TextField()
        author = models.ForeignKey(User, on_delete=models.CASCADE)
        profile = TimelineField("shouts:{author_id}", score="created", actor="body")
        fine = TimelineField("shouts:all", score="created", actor="author")

        class Meta:
            app_label = "tests"

    assert check_declarations(app_configs=[Shout._meta.apps.get_app_config("tests")]) == [
        checks.Error(
            "tests.Shout.profile: actor='body' names no foreign key of tests.Shout.",
            hint="Name a ForeignKey (its id is read without a query), or pass a callable returning a row or a reference.",
            obj=Shout,
            id="django_timak.E026",
        )
    ]
