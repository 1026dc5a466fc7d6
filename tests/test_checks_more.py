"""The checks that catch, before the first save, what would otherwise fail at run time."""

import pytest
from django.core import checks
from django.db import models
from django.test import override_settings
from django.test.utils import isolate_apps

from django_timak import TimelineField, TimelineMixin, Timeline
from django_timak.backends.memory import MemoryBackend
from django_timak.checks import check_declarations, check_timelines
from django_timak.exceptions import InvalidTimelineInput
from tests.models import User

MEMORY = "django_timak.backends.memory.MemoryBackend"
DATABASE = "django_timak.backends.db.DatabaseBackend"


@isolate_apps("tests")
def test_dotted_placeholders_are_followed_through_relations():
    class Comment(TimelineMixin, models.Model):
        author = models.ForeignKey(User, on_delete=models.CASCADE)
        created = models.DateTimeField()

        typo_after_dot = TimelineField("user:{author.usernme}:posts", score="created")
        typo_two_steps = TimelineField("group:{author.groups.nme}", score="created")
        fine = TimelineField("user:{author.username}:{created.year}:{author.get_full_name}", score="created")
        typo_in_root = TimelineField("user:{auther.username}", score="created")

        class Meta:
            app_label = "tests"

    registry = Comment._meta.apps
    found = [(e.id, e.msg) for e in check_declarations(app_configs=[registry.get_app_config("tests")])]
    assert found == [
        ("django_timak.E020", "tests.Comment.typo_after_dot: the key 'user:{author.usernme}:posts' uses {author.usernme}, but tests.User has no attribute 'usernme'."),
        ("django_timak.E020", "tests.Comment.typo_two_steps: the key 'group:{author.groups.nme}' uses {author.groups.nme}, but auth.Group has no attribute 'nme'."),
        ("django_timak.E020", "tests.Comment.typo_in_root: the key 'user:{auther.username}' uses {auther.username}, but tests.Comment has no attribute 'auther'."),
    ]


@pytest.mark.parametrize(
    "alias, message",
    [
        ({"BACKEND": MEMORY, "MAX_VALUE_BYTES": 0}, "max_value_bytes must be an int of at least 1, not 0"),
        ({"BACKEND": MEMORY, "MAX_VALUE_BYTES": -5}, "max_value_bytes must be an int of at least 1, not -5"),
        ({"BACKEND": MEMORY, "MAX_TOMBSTONES": -1}, "max_tombstones must be an int of at least 0, not -1"),
        ({"BACKEND": MEMORY, "MAX_TOMBSTONES": "10"}, "max_tombstones must be an int of at least 0, not '10'"),
        ({"BACKEND": MEMORY, "MAX_TOMBSTONES": 2.5}, "max_tombstones must be an int of at least 0, not 2.5"),
    ],
)
def test_timeline_values_the_store_cannot_use_are_check_errors(alias, message):
    with override_settings(TIMAK_TIMELINES={"default": alias}):
        [error] = check_timelines()
    assert (error.id, error.msg) == ("django_timak.E003", f"TIMAK_TIMELINES['default'] is invalid: {message}")


@pytest.mark.parametrize(
    "arguments",
    [{"max_value_bytes": 0}, {"max_tombstones": -1}, {"max_tombstones": True}, {"max_attempts": 0}],
)
def test_timeline_refuses_the_same_values(arguments):
    with pytest.raises(InvalidTimelineInput):
        Timeline(MemoryBackend(), **arguments)


def test_an_unknown_database_is_a_check_error():
    with override_settings(TIMAK_TIMELINES={"default": {"BACKEND": DATABASE, "OPTIONS": {"USING": "no-such-db"}}}):
        [error] = check_timelines()
    assert (error.id, error.msg) == ("django_timak.E040", "The database backend's USING 'no-such-db' is not a database of DATABASES.")
    assert "default" in error.hint


def test_sqlite_without_immediate_transactions_is_a_warning(monkeypatch):
    from django.db import connections

    monkeypatch.setitem(connections["default"].settings_dict, "OPTIONS", {"timeout": 30})
    [warning] = check_timelines()
    assert warning.id == "django_timak.W040" and warning.level == checks.WARNING
    assert "database is locked" in warning.msg and '"transaction_mode": "IMMEDIATE"' in warning.hint


def test_sqlite_with_immediate_transactions_passes():
    assert check_timelines() == []
