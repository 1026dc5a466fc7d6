"""Declarations: TimelineField arguments, the keys a row belongs to, and the system checks."""

from datetime import datetime, timezone

import pytest
from django.core import checks
from django.db import models
from django.test.utils import isolate_apps

from django_timak import TimelineField, TimelineMixin
from django_timak import checks as timak_checks
from django_timak.checks import check_declarations, check_fanout
from django_timak.refs import make_ref, parse_ref
from tests.models import Photo, Post, User


def test_the_public_names_are_the_declarations():
    from django_timak import declarations

    assert TimelineField is declarations.TimelineField and TimelineMixin is declarations.TimelineMixin


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"key": 42, "score": "created"}, "key must be a str template"),
        ({"key": "k", "score": lambda row: 1}, "score must name a field"),
        ({"key": "k", "score": "created", "timeline": None}, "timeline must name a TIMAK_TIMELINES alias"),
        ({"key": "k", "score": "created", "condition": True}, "condition must be a callable"),
        ({"key": "k", "score": "created", "recipients": [1, 2]}, "recipients must be a callable"),
        ({"key": "k", "score": "created", "data": "body"}, "data must be a callable"),
    ],
)
def test_wrong_argument_types_are_named(kwargs, message):
    key = kwargs.pop("key")
    with pytest.raises(TypeError, match=message):
        TimelineField(key, **kwargs)


@pytest.mark.parametrize("key", ["user:{", "user:{}:home", "user:{0}:home"])
def test_a_key_that_is_not_a_template_over_attributes_is_refused(key):
    with pytest.raises(ValueError, match="TimelineField key"):
        TimelineField(key, score="created")


def test_the_fields_of_a_model_in_declaration_order():
    assert [f.name for f in Post.timeline_fields()] == ["profile_timeline", "home_timeline", "memory_timeline"]
    assert Post.home_timeline.placeholders == ("recipient",)
    assert [f.name for f in Photo.timeline_fields()] == ["profile_timeline"]


def test_keys_and_item_of_a_row():
    author = User(pk=7, username="a")
    post = Post(pk=3, author=author, body="x" * 200, created=datetime(2024, 1, 1, tzinfo=timezone.utc))
    author.follower_ids = lambda: [1, 2, 1]
    assert Post.profile_timeline.keys(post) == ["user:7:posts"]
    assert Post.home_timeline.keys(post) == ["user:1:home", "user:2:home"]
    assert Post.home_timeline.item(post) == ("tests.post:3", 1_704_067_200_000, {"body": "x" * 140})
    post.published = False
    assert Post.profile_timeline.keys(post) == Post.home_timeline.keys(post) == []


@pytest.mark.django_db
def test_references_round_trip_and_other_ids_are_not_references():
    user = User.objects.create(username="r")
    post = Post.objects.create(author=user, body="b")
    assert make_ref(post) == f"tests.post:{post.pk}"
    assert parse_ref(make_ref(post)) == (Post, post.pk)
    for other in [42, "plain", "user:42:home", "nosuch.model:1", "tests.post:not-a-pk"]:
        assert parse_ref(other) is None


def errors_of(registry):
    return [(e.id, e.msg) for e in check_declarations(app_configs=[registry.get_app_config("tests")])]


@isolate_apps("tests")
def test_declaration_mistakes_are_check_errors():
    class Bad(TimelineMixin, models.Model):
        owner = models.ForeignKey(User, on_delete=models.CASCADE)
        title = models.CharField(max_length=10)
        price = models.DecimalField(max_digits=5, decimal_places=2)

        no_attribute = TimelineField("user:{owner_idd}:posts", score="title")
        no_recipients = TimelineField("user:{recipient}:home", score="nothing")
        no_placeholder = TimelineField("all", score="price", recipients=lambda row: [1], timeline="nowhere")

        class Meta:
            app_label = "tests"

    class Plain(models.Model):
        stamp = models.IntegerField()
        timeline = TimelineField("plain:{pk}", score="stamp")

        class Meta:
            app_label = "tests"

    registry = Bad._meta.apps
    assert errors_of(registry) == [
        ("django_timak.E020", "tests.Bad.no_attribute: the key 'user:{owner_idd}:posts' uses {owner_idd}, but tests.Bad has no attribute 'owner_idd'."),
        ("django_timak.E023", "tests.Bad.no_attribute: score='title' is a CharField, not a date, datetime or number."),
        ("django_timak.E020", "tests.Bad.no_recipients: the key 'user:{recipient}:home' uses {recipient} but the field has no recipients."),
        ("django_timak.E022", "tests.Bad.no_recipients: score='nothing' names no field of tests.Bad."),
        ("django_timak.E021", "tests.Bad.no_placeholder: the field has recipients but its key 'all' has no {recipient}."),
        ("django_timak.E023", "tests.Bad.no_placeholder: score='price' is a DecimalField, not a date, datetime or number."),
        ("django_timak.E024", "tests.Bad.no_placeholder: timeline='nowhere' is not an alias of TIMAK_TIMELINES."),
        ("django_timak.E025", "tests.Plain declares TimelineFields but does not inherit TimelineMixin."),
    ]


def test_the_test_project_declarations_pass_the_checks():
    assert check_declarations() == []
    assert checks.run_checks(tags=["django_timak"]) == []


@pytest.mark.parametrize(
    "value, expected",
    [
        ({"RUN": "inline", "BATCH_SIZE": 10, "WORKERS": 2, "TASK_QUEUE": "q", "TASK_BACKEND": "b"}, []),
        ([("RUN", "inline")], [("django_timak.E010", "TIMAK_FANOUT must be a dict.")]),
        ({"BATCH": 10}, [("django_timak.E010", "TIMAK_FANOUT has unknown keys: BATCH.")]),
        ({"RUN": "later"}, [("django_timak.E011", "TIMAK_FANOUT['RUN'] must be 'inline' or 'task', not 'later'.")]),
        (
            {"BATCH_SIZE": 0, "WORKERS": True},
            [
                ("django_timak.E012", "TIMAK_FANOUT['BATCH_SIZE'] must be a positive int, not 0."),
                ("django_timak.E012", "TIMAK_FANOUT['WORKERS'] must be a positive int, not True."),
            ],
        ),
    ],
)
def test_fanout_settings_are_checked(settings, value, expected):
    settings.TIMAK_FANOUT = value
    assert [(e.id, e.msg) for e in check_fanout()] == expected


def test_task_fan_out_without_a_tasks_framework_is_a_check_error(settings, monkeypatch):
    settings.TIMAK_FANOUT = {"RUN": "task"}
    assert [e.id for e in check_fanout()] == ["django_timak.W010"]  # the test settings' immediate backend
    monkeypatch.setattr(timak_checks, "find_spec", lambda name: None)
    [error] = check_fanout()
    assert (error.id, error.msg) == ("django_timak.E013", "TIMAK_FANOUT['RUN'] is 'task' but no tasks framework is installed.")
    assert "django-timak[tasks]" in error.hint
