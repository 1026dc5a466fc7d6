"""Reading a page for a web page: a failing store degrades the page instead of failing it.

The ``{% timeline %}`` tag and ``TimelineView`` read through ``read_page``. When the
timeline store is down, times out or holds a value it cannot decode, it raises
``TimelineUnavailable`` (the tag then renders an empty page with a flag, the view
answers 503), unless the alias sets ``IGNORE_EXCEPTIONS: False`` (the shape of
django-redis's option), which lets the store's error propagate. An alias that
cannot even be built (a configuration error met under a server that runs no
checks) always degrades: its settings cannot be trusted to say otherwise.
Either way the log says what went wrong, once, without a traceback.
"""

import logging
from contextlib import contextmanager

from .conf import alias_settings
from .exceptions import CorruptValue, TimelineBackendError, TimelineConfigError, TimelineUnavailable
from .handler import timelines

logger = logging.getLogger("django_timak")


def read_page(alias: str, key: str, *, limit: int, cursor: str | None, sources=(), exclude_actors=()):
    """Return a ``Page`` of ``key`` (merged with the ``sources`` keys); raise TimelineUnavailable if the store cannot answer now.

    ``InvalidCursor`` and ``InvalidKey`` pass through: they are the client's mistakes.
    """
    timeline = readable_timeline(alias)
    with degrading(alias, key):
        return timeline.page(key, limit=limit, cursor=cursor, sources=sources, exclude_actors=exclude_actors)


def readable_timeline(alias: str):
    """Return the Timeline of ``alias``; raise TimelineUnavailable (logged) if it cannot be built."""
    try:
        return timelines[alias]
    except TimelineConfigError as e:
        logger.error("timak: timeline %r cannot be read, it is misconfigured: %s", alias, e)
        raise TimelineUnavailable(f"timeline {alias!r} is misconfigured") from e


@contextmanager
def degrading(alias: str, key: str):
    """Turn a store's failure to read ``key`` into TimelineUnavailable (logged), unless the alias sets IGNORE_EXCEPTIONS False."""
    try:
        yield
    except (TimelineBackendError, CorruptValue) as e:
        if not alias_settings(alias)["IGNORE_EXCEPTIONS"]:
            raise
        log = logger.error if isinstance(e, CorruptValue) else logger.warning
        log("timak: reading %r from timeline %r failed: %s", key, alias, e)
        raise TimelineUnavailable(f"timeline {alias!r} is unavailable") from e
