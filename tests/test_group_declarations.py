"""Declaring a grouped timeline: what TimelineField(group=) stores for a row, and the mistakes it refuses."""

import pytest
from django.core import checks
from django.db import models
from django.test.utils import isolate_apps

from django_timak import TimelineField, TimelineMixin, groups
from django_timak.checks import check_declarations
from tests.models import Like, Post, User


def test_a_grouped_field_stores_the_row_as_a_member_of_its_group_without_a_query(db, django_assert_num_queries):
    like = Like(pk=7, user_id=3, post_id=5, created=Post._meta.get_field("created").default())
    with django_assert_num_queries(0):
        group_id, score, data = Like.notifications.item(like)
    assert group_id == "like:5"
    assert data == groups.change("tests.like:7", "tests.user:3", {"target": "tests.post:5", "data": None})


def test_an_actor_callable_may_return_a_row():
    field = TimelineField("k", score="created", group=lambda like: "g", actor=lambda like: User(pk=9))
    like = Like(pk=1, user_id=3, post_id=5, created=Post._meta.get_field("created").default())
    assert field.item(like)[2] == groups.change("tests.like:1", "tests.user:9", {"target": None, "data": None})


@pytest.mark.parametrize(
    "options, message",
    [
        ({"group": "like", "actor": "user"}, "TimelineField group must be a callable returning the row's group id, not 'like'"),
        ({"group": str}, "TimelineField group needs actor: a foreign key's name, or a callable taking the row"),
        ({"group": str, "actor": 3}, "TimelineField actor must name a foreign key or be a callable, not 3"),
        ({"group": str, "actor": "user", "target": 3}, "TimelineField target must name a foreign key or be a callable, not 3"),
    ],
)
def test_group_options_of_the_wrong_kind_are_refused_when_declared(options, message):
    with pytest.raises(TypeError) as raised:
        TimelineField("k", score="created", **options)
    assert str(raised.value) == message


@isolate_apps("tests")
def test_actor_or_target_naming_no_foreign_key_is_a_system_check_error():
    class Review(TimelineMixin, models.Model):
        author = models.ForeignKey(User, on_delete=models.CASCADE)
        created = models.DateTimeField()
        notification = TimelineField("k", score="created", group=str, actor="writer", target="created")
        fine = TimelineField("k", score="created", group=str, actor="author")

        class Meta:
            app_label = "tests"

    hint = "Name a ForeignKey (its id is read without a query), or pass a callable returning a row or a reference."
    assert check_declarations(app_configs=[Review._meta.apps.get_app_config("tests")]) == [
        checks.Error("tests.Review.notification: actor='writer' names no foreign key of tests.Review.",
                     hint=hint, obj=Review, id="django_timak.E026"),
        checks.Error("tests.Review.notification: target='created' names no foreign key of tests.Review.",
                     hint=hint, obj=Review, id="django_timak.E026"),
    ]
