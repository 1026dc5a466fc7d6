"""``timelines``: the Timeline of each alias in ``settings.TIMAK_TIMELINES``.

Shaped like Django's ``caches``, but one Timeline serves every thread: the stores are
thread-safe, and an in-memory store must be the same object for all threads.
Settings are read on first use and re-read when ``override_settings`` changes them.
"""

import threading

from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from .aliases import lazy_names
from .conf import TIMELINE_ARGUMENTS, TIMELINES, alias_defaults, alias_settings, configured_timelines
from .exceptions import TimelineConfigError
from .timeline import Timeline

#: Names that lived here before django_timak.conf and django_timak.exceptions.
__getattr__ = lazy_names(
    __name__,
    {
        "SETTING": "django_timak.conf:TIMELINES",
        "DEFAULT_TIMELINES": "django_timak.conf",
        "KNOWN_KEYS": "django_timak.conf:ALIAS_KEYS",
    },
)


def build_timeline(alias: str, config: dict) -> Timeline:
    """Return the Timeline one alias's settings describe."""
    config = {**alias_defaults(), **config}
    try:
        backend_class = import_string(config["BACKEND"])
    except KeyError as e:
        raise TimelineConfigError(f"{TIMELINES}[{alias!r}] has no 'BACKEND'") from e
    except ImportError as e:
        raise TimelineConfigError(f"{TIMELINES}[{alias!r}]: cannot import BACKEND {config['BACKEND']!r}: {e}") from e
    options = {name.lower(): value for name, value in config["OPTIONS"].items()}
    try:
        backend = backend_class(**options)
        return Timeline(backend=backend, **{argument: config[key] for key, argument in TIMELINE_ARGUMENTS.items()})
    except (TypeError, ValueError, ImportError) as e:
        raise TimelineConfigError(f"{TIMELINES}[{alias!r}] is invalid: {e}") from e


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
        config = alias_settings(alias)
        with self._lock:
            if alias not in self._timelines:
                self._timelines[alias] = build_timeline(alias, config)
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
    if setting == TIMELINES:
        timelines.reset()


setting_changed.connect(_reset_on_change, dispatch_uid="django_timak.handler.reset")
