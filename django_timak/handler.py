"""``timelines``: the Timeline of each alias in ``settings.TIMAK_TIMELINES``.

Shaped like Django's ``caches``, but one Timeline serves every thread: the stores are
thread-safe, and an in-memory store must be the same object for all threads.
Settings are read on first use and re-read when ``override_settings`` changes them.
"""

import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from .timeline import Timeline

SETTING = "TIMAK_TIMELINES"
DEFAULT_TIMELINES = {
    "default": {"BACKEND": "django_timak.backends.db.DatabaseBackend", "MAX_ITEMS": 1000},
}
#: Keys of one alias's settings, with the Timeline argument each one sets.
TIMELINE_ARGUMENTS = {
    "MAX_ITEMS": "max_items",
    "ORDER": "order",
    "COMPRESS": "compress",
    "MARGIN": "margin",
    "MAX_TOMBSTONES": "max_tombstones",
    "MAX_VALUE_BYTES": "max_value_bytes",
}
KNOWN_KEYS = {"BACKEND", "OPTIONS", *TIMELINE_ARGUMENTS}


class TimelineConfigError(ImproperlyConfigured):
    """TIMAK_TIMELINES, or a timeline declaration, is misconfigured."""


def configured_timelines() -> dict:
    """Return the TIMAK_TIMELINES setting, or the default when it is not set."""
    return getattr(settings, SETTING, None) or DEFAULT_TIMELINES


def build_timeline(alias: str, config: dict) -> Timeline:
    """Return the Timeline one alias's settings describe."""
    try:
        backend_class = import_string(config["BACKEND"])
    except KeyError as e:
        raise TimelineConfigError(f"{SETTING}[{alias!r}] has no 'BACKEND'") from e
    except ImportError as e:
        raise TimelineConfigError(f"{SETTING}[{alias!r}]: cannot import BACKEND {config['BACKEND']!r}: {e}") from e
    options = {name.lower(): value for name, value in config.get("OPTIONS", {}).items()}
    try:
        backend = backend_class(**options)
        arguments = {arg: config[name] for name, arg in TIMELINE_ARGUMENTS.items() if name in config}
        return Timeline(backend=backend, **arguments)
    except (TypeError, ValueError, ImportError) as e:
        raise TimelineConfigError(f"{SETTING}[{alias!r}] is invalid: {e}") from e


class TimelineHandler:
    """Lazily build and keep one Timeline per alias."""

    def __init__(self):
        self._timelines = {}
        self._lock = threading.Lock()

    def __getitem__(self, alias: str) -> Timeline:
        try:
            return self._timelines[alias]
        except KeyError:
            pass
        config = configured_timelines()
        if alias not in config:
            raise TimelineConfigError(f"{SETTING} has no timeline named {alias!r}")
        with self._lock:
            if alias not in self._timelines:
                self._timelines[alias] = build_timeline(alias, config[alias])
            return self._timelines[alias]

    def __iter__(self):
        return iter(configured_timelines())

    def __contains__(self, alias):
        return alias in configured_timelines()

    def all(self, initialized_only: bool = False) -> list[Timeline]:
        if initialized_only:
            return list(self._timelines.values())
        return [self[alias] for alias in self]

    def reset(self):
        """Close and forget every Timeline; the next use reads the settings again."""
        with self._lock:
            for timeline in self._timelines.values():
                timeline.backend.close()
            self._timelines.clear()


timelines = TimelineHandler()


def _reset_on_change(*, setting, **kwargs):
    if setting == SETTING:
        timelines.reset()


setting_changed.connect(_reset_on_change, dispatch_uid="django_timak.handler.reset")
