"""TIMAK_TIMELINES: the handler, its defaults, and the system checks that guard it."""

import pytest
from django.core import checks
from django.test import override_settings

from django_timak import Timeline, timelines
from django_timak.backends.db import DatabaseBackend
from django_timak.backends.memory import MemoryBackend
from django_timak.checks import check_timelines
from django_timak.conf import alias_settings
from django_timak.exceptions import TimelineConfigError

MEMORY = "django_timak.backends.memory.MemoryBackend"


def test_timelines_are_built_from_settings():
    with override_settings(TIMAK_TIMELINES={"default": {"BACKEND": MEMORY, "MAX_ITEMS": 7, "ORDER": "asc", "COMPRESS": "zlib", "MARGIN": 2, "OPTIONS": {"ALLOW_MULT": True}}}):
        tl = timelines["default"]
        assert isinstance(tl, Timeline) and isinstance(tl.backend, MemoryBackend)
        assert (tl.max_items, tl.order, tl.compress, tl.margin, tl.backend.allow_mult) == (7, "asc", "zlib", 2, True)
        assert timelines["default"] is tl
        assert list(timelines) == ["default"]


def test_without_the_setting_default_is_the_database_backend():
    with override_settings(TIMAK_TIMELINES=None):
        tl = timelines["default"]
        assert isinstance(tl.backend, DatabaseBackend) and tl.max_items == 1000


def test_override_settings_takes_effect_and_is_undone():
    before = timelines["memory"]
    with override_settings(TIMAK_TIMELINES={"memory": {"BACKEND": MEMORY, "MAX_ITEMS": 3}}):
        assert timelines["memory"].max_items == 3
    assert timelines["memory"] is not before and timelines["memory"].max_items == 100


def test_one_timeline_serves_every_thread():
    import threading

    seen = []
    thread = threading.Thread(target=lambda: seen.append(timelines["memory"]))
    thread.start()
    thread.join()
    assert seen == [timelines["memory"]]


def test_an_unknown_alias_is_a_configuration_error():
    with pytest.raises(TimelineConfigError, match="no timeline named 'nope'"):
        timelines["nope"]


def test_a_correct_setting_passes_the_checks():
    assert check_timelines() == []


@pytest.mark.parametrize(
    "setting, expected",
    [
        ("not a dict", [("django_timak.E001", "TIMAK_TIMELINES must be a dict of aliases.")]),
        ({"default": []}, [("django_timak.E001", "TIMAK_TIMELINES['default'] must be a dict.")]),
        ({"default": {"BACKEND": MEMORY, "MAXITEMS": 3}}, [("django_timak.E002", "TIMAK_TIMELINES['default'] has unknown keys: MAXITEMS.")]),
        ({"default": {}}, [("django_timak.E003", "TIMAK_TIMELINES['default'] has no 'BACKEND'")]),
        ({"default": {"BACKEND": "no.such.Backend"}}, [("django_timak.E003", "TIMAK_TIMELINES['default']: cannot import BACKEND 'no.such.Backend': No module named 'no'")]),
        ({"default": {"BACKEND": MEMORY, "MAX_ITEMS": 0}}, [("django_timak.E003", "TIMAK_TIMELINES['default'] is invalid: max_items must be an int of at least 1, not 0")]),
        ({"default": {"BACKEND": MEMORY, "COMPRESS": "lz4"}}, [("django_timak.E003", "TIMAK_TIMELINES['default'] is invalid: unknown COMPRESS 'lz4'; choose one of None, 'zlib', 'zstd'")]),
        ({"default": {"BACKEND": MEMORY, "OPTIONS": {"COLOUR": "red"}}}, [("django_timak.E003", "TIMAK_TIMELINES['default'] is invalid: MemoryBackend.__init__() got an unexpected keyword argument 'colour'")]),
    ],
)
def test_misconfiguration_is_reported_by_system_checks(setting, expected):
    with override_settings(TIMAK_TIMELINES=setting):
        messages = check_timelines()
    assert [(m.id, m.msg) for m in messages] == expected
    assert all(m.level == checks.ERROR and m.hint for m in messages)


@pytest.mark.django_db  # Django 6's model checks look at the database features
def test_checks_run_with_manage_py_check():
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    with override_settings(TIMAK_TIMELINES={"default": {"BACKEND": MEMORY, "ORDER": "sideways"}}):
        with pytest.raises(SystemCheckError, match="django_timak.E003"):
            call_command("check", "django_timak")


def test_an_alias_settings_are_filled_with_the_defaults():
    with override_settings(TIMAK_TIMELINES={"default": {"BACKEND": MEMORY, "MAX_ITEMS": 7}}):
        assert alias_settings("default") == {
            "BACKEND": MEMORY,
            "OPTIONS": {},
            "MAX_ITEMS": 7,
            "ORDER": "desc",
            "COMPRESS": None,
            "MARGIN": 0,
            "MAX_TOMBSTONES": None,
            "MAX_VALUE_BYTES": None,
            "COMPACT_ON_READ": 8,
            "COMPACT_ON_APPEND": 16,
            "IGNORE_EXCEPTIONS": True,
        }
        with pytest.raises(TimelineConfigError, match="no timeline named 'nope'"):
            alias_settings("nope")


def test_ignore_exceptions_is_read_from_the_settings_when_asked_for():
    with override_settings(TIMAK_TIMELINES={"default": {"BACKEND": MEMORY, "IGNORE_EXCEPTIONS": False}}):
        assert alias_settings("default")["IGNORE_EXCEPTIONS"] is False
    assert alias_settings("default")["IGNORE_EXCEPTIONS"] is True


def test_ignore_exceptions_must_be_a_bool():
    with override_settings(TIMAK_TIMELINES={"default": {"BACKEND": MEMORY, "IGNORE_EXCEPTIONS": "yes"}}):
        [error] = check_timelines()
    assert (error.id, error.msg) == (
        "django_timak.E004",
        "TIMAK_TIMELINES['default']['IGNORE_EXCEPTIONS'] must be True or False, not 'yes'.",
    )
    assert "503" in error.hint
