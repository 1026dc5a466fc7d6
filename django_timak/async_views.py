"""``AsyncTimelineView``: ``TimelineView`` for ASGI, the page read without holding a thread.

The page is read with ``Timeline.apage`` (natively async on Riak); hydration, marks
and rendering, which use the ORM, then run as the sync view does, in Django's ORM
thread. The answers are the sync view's: the same HTML and JSON, 400 for a bad
cursor or format, 404 for an impossible key, 503 with ``Retry-After`` when the store
is down.
"""

from asgiref.sync import sync_to_async

from .exceptions import InvalidCursor, InvalidTimelineInput, TimelineUnavailable
from .exclusion_settings import ExcludedActorsMixin, excluded_callable
from .reading import degrading, readable_timeline
from .views import InvalidPageSize, TimelineView


async def aread_page(alias: str, key: str, *, limit: int, cursor: str | None, sources=(), exclude_actors=()):
    """Async form of ``reading.read_page``: the same page, the same TimelineUnavailable."""
    timeline = readable_timeline(alias)
    with degrading(alias, key):
        return await timeline.apage(key, limit=limit, cursor=cursor, sources=sources, exclude_actors=exclude_actors)


class AsyncTimelineView(TimelineView):
    """A ``TimelineView`` whose ``get`` is a coroutine (``view_is_async``)."""

    async def aget_page(self):
        """Async form of ``get_page()``; the hooks that may ask the ORM (sources, exclusions) run in its thread."""
        if self._hooks_are_pure():
            sources, excluded = self.get_timeline_sources(), self.excluded_refs()
        else:
            # One trip to the ORM's thread for both hooks: every trip costs the loop a thread hand-off.
            sources, excluded = await sync_to_async(lambda: (self.get_timeline_sources(), self.excluded_refs()))()
        return await aread_page(
            self.get_timeline_name(), self.get_timeline_key(), limit=self.get_paginate_by(), cursor=self.get_cursor(),
            sources=sources, exclude_actors=excluded,
        )

    def _hooks_are_pure(self) -> bool:
        """Return True when neither hook can reach the ORM: ours, and no ``TIMAK_EXCLUDED_ACTORS`` to call."""
        cls = type(self)
        return (
            cls.get_timeline_sources is TimelineView.get_timeline_sources
            and cls.get_excluded_actors is ExcludedActorsMixin.get_excluded_actors
            and cls.excluded_refs is ExcludedActorsMixin.excluded_refs
            and excluded_callable() is None
        )

    def get_page(self):
        if self._read_error is not None:
            raise self._read_error
        return self._page

    async def get(self, request, *args, **kwargs):
        self._page, self._read_error = None, None
        if self.get_format() is not None:
            try:
                self._page = await self.aget_page()
            except (InvalidCursor, InvalidPageSize, InvalidTimelineInput, TimelineUnavailable) as e:
                self._read_error = e
        return await sync_to_async(super().get)(request, *args, **kwargs)
