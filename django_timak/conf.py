"""Every django-timak setting: its name, its defaults and what a valid value is.

``TIMAK_TIMELINES`` (the aliases, shaped like ``CACHES``), ``TIMAK_FANOUT`` and
``TIMAK_OUTBOX``. Settings are read when asked for, never copied at import, so
``override_settings`` applies. The system checks report every invalid value by the
rules here; at run time only a value that cannot be acted on raises.
"""

from dataclasses import dataclass
from functools import cache
from inspect import signature
from typing import Any, Callable

from django.conf import settings

from .exceptions import TimelineConfigError
from .timeline import Timeline

TIMELINES = "TIMAK_TIMELINES"
FANOUT = "TIMAK_FANOUT"
OUTBOX = "TIMAK_OUTBOX"


@dataclass(frozen=True)
class Option:
    """One key of a dict setting: its default, and the rule a value must meet (None: any)."""

    default: Any
    expected: str = ""
    valid: Callable[[Any], bool] | None = None


def _positive_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= 1


def _positive_number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value > 0


def _compaction_threshold(value) -> bool:
    return _positive_int(value) and value >= 2


POSITIVE_INT = ("a positive int", _positive_int)
POSITIVE_NUMBER = ("a positive number", _positive_number)

DEFAULT_TIMELINES = {"default": {"BACKEND": "django_timak.backends.db.DatabaseBackend"}}

#: Keys of one alias's settings that set a Timeline argument, with that argument;
#: their defaults are the Timeline's own.
TIMELINE_ARGUMENTS = {
    "MAX_ITEMS": "max_items",
    "ORDER": "order",
    "COMPRESS": "compress",
    "MARGIN": "margin",
    "MAX_TOMBSTONES": "max_tombstones",
    "MAX_VALUE_BYTES": "max_value_bytes",
    "COMPACT_ON_READ": "compact_on_read",
    "COMPACT_ON_APPEND": "compact_on_append",
}
#: Timeline arguments checked by key (django_timak.E005): how many values (siblings,
#: appended changes) a key holds before a read, or an append, writes them back merged.
COMPACTION_OPTIONS = {
    key: Option(signature(Timeline).parameters[TIMELINE_ARGUMENTS[key]].default, "an int of at least 2",
                _compaction_threshold)
    for key in ("COMPACT_ON_READ", "COMPACT_ON_APPEND")
}
#: Keys of one alias's settings read by the library around its Timeline.
ALIAS_OPTIONS = {
    #: Page reads for web pages (the {% timeline %} tag, TimelineView) when the store
    #: fails: True shows an empty page (the view answers 503), False lets the error propagate.
    "IGNORE_EXCEPTIONS": Option(True, "True or False", lambda value: isinstance(value, bool)),
}
ALIAS_KEYS = {"BACKEND", "OPTIONS", *TIMELINE_ARGUMENTS, *ALIAS_OPTIONS}

RUN_MODES = ("inline", "task")
FANOUT_OPTIONS = {
    #: "inline": apply every batch after commit, in the process that saved;
    #: "task": enqueue one task per batch (django.tasks, or the django-tasks backport).
    "RUN": Option("inline", "'inline' or 'task'", RUN_MODES.__contains__),
    #: Keys written per batch (per task).
    "BATCH_SIZE": Option(500, *POSITIVE_INT),
    #: Concurrent writes within a batch, for a networked store (the outbox's drains too).
    "WORKERS": Option(8, *POSITIVE_INT),
    #: Where the tasks go when RUN is "task".
    "TASK_BACKEND": Option("default"),
    "TASK_QUEUE": Option("default"),
}
OUTBOX_OPTIONS = {
    #: True, False, or None: on for the timelines whose store is networked (Riak).
    "ENABLED": Option(None, "True, False or None", lambda value: value in (None, True, False)),
    #: Rows applied per drain batch.
    "BATCH_SIZE": Option(500, *POSITIVE_INT),
    #: Seconds before the first retry; doubles with every failure, up to MAX_BACKOFF.
    "BACKOFF": Option(1.0, *POSITIVE_NUMBER),
    "MAX_BACKOFF": Option(300.0, *POSITIVE_NUMBER),
    #: Seconds a drain holds the rows it claimed; longer than a batch can take.
    "LEASE": Option(60.0, *POSITIVE_NUMBER),
    #: The system check warns when the oldest pending operation is older than this.
    "WARN_AGE": Option(300.0, *POSITIVE_NUMBER),
}


def defaults(options: dict) -> dict:
    """Return ``{key: default}`` of a setting's options."""
    return {key: option.default for key, option in options.items()}


FANOUT_DEFAULTS = defaults(FANOUT_OPTIONS)
OUTBOX_DEFAULTS = defaults(OUTBOX_OPTIONS)


def invalid_values(where: str, options: dict, config: dict) -> list[tuple[str, str]]:
    """Return ``(key, message)`` for each value of ``config`` its option refuses."""
    found = []
    for key, option in options.items():
        value = config.get(key, option.default)
        if option.valid is not None and not option.valid(value):
            found.append((key, f"{where}[{key!r}] must be {option.expected}, not {value!r}."))
    return found


def configured_timelines() -> dict:
    """Return the TIMAK_TIMELINES setting, or the default when it is not set."""
    return getattr(settings, TIMELINES, None) or DEFAULT_TIMELINES


@cache
def _timeline_defaults() -> dict:
    arguments = signature(Timeline).parameters
    return {key: arguments[argument].default for key, argument in TIMELINE_ARGUMENTS.items()}


def alias_defaults() -> dict:
    """Return the value every optional key of an alias takes when it is not set."""
    return {"OPTIONS": {}, **_timeline_defaults(), **defaults(ALIAS_OPTIONS)}


def alias_settings(alias: str) -> dict:
    """Return one alias's settings with the defaults filled in."""
    config = configured_timelines()
    if alias not in config:
        raise TimelineConfigError(f"{TIMELINES} has no timeline named {alias!r}")
    if not isinstance(config[alias], dict):
        raise TimelineConfigError(f"{TIMELINES}[{alias!r}] must be a dict")
    return {**alias_defaults(), **config[alias]}


def fanout_settings() -> dict:
    """Return TIMAK_FANOUT over its defaults; a RUN mode fan-out cannot follow raises."""
    config = {**FANOUT_DEFAULTS, **(getattr(settings, FANOUT, None) or {})}
    if config["RUN"] not in RUN_MODES:
        raise TimelineConfigError(f"{FANOUT}['RUN'] must be one of {RUN_MODES}, not {config['RUN']!r}")
    return config


def outbox_settings() -> dict:
    """Return TIMAK_OUTBOX over its defaults."""
    return {**OUTBOX_DEFAULTS, **(getattr(settings, OUTBOX, None) or {})}
