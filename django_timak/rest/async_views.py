"""Async forms of the DRF views: the page read with ``Timeline.apage``, without holding a thread while the store answers.

They run on adrf's ``APIView`` (``pip install "django-timak[rest,async]"``), which
awaits the handler and runs DRF's authentication, permissions and throttles (adrf's
async ones included) in Django's ORM thread. The hooks that may ask the ORM
(``get_timeline_key()``, ``get_timeline_sources()``, ``get_excluded_actors()``) run
there too, then the page is awaited on the event loop; the marks, hydration (one
query per model) and serialization run in the ORM thread as the sync views run them.
The answers are the sync views': the same pages and links, 400 for a bad cursor or
exclusion answer, 404 for an impossible key, 503 with ``Retry-After``, and AS2 by
content negotiation.
"""

from adrf.generics import GenericAPIView
from adrf.viewsets import GenericViewSet
from asgiref.sync import sync_to_async
from rest_framework import mixins

from .views import NotificationActions, TimelineAPIMixin


class AsyncTimelineAPIMixin(TimelineAPIMixin):
    """``TimelineAPIMixin`` whose ``list`` is a coroutine."""

    def page_request(self):
        """Return ``(alias, key, sources, excluded actors)``: what the hooks answer for this request."""
        return self.get_timeline_name(), self.get_timeline_key(), self.get_timeline_sources(), self.get_exclusions()

    async def aread_page(self):
        """Async form of ``read_page()``: the hooks in the ORM's thread, the page awaited."""
        alias, key, sources, excluded = await sync_to_async(self.page_request)()
        return await self.paginator.apaginate_timeline(alias, key, self.request, sources, view=self, exclude_actors=excluded)

    async def list(self, request, *args, **kwargs):
        page = await self.aread_page()
        return await sync_to_async(self.answer_page)(page)


class AsyncTimelineListAPIView(AsyncTimelineAPIMixin, mixins.ListModelMixin, GenericAPIView):
    """``TimelineListAPIView`` served by a coroutine."""

    async def get(self, request, *args, **kwargs):
        return await self.list(request, *args, **kwargs)


class AsyncTimelineViewSet(AsyncTimelineAPIMixin, mixins.ListModelMixin, GenericViewSet):
    """``TimelineViewSet`` served by a coroutine (register it with a ``basename``)."""


class AsyncNotificationViewSet(NotificationActions, AsyncTimelineViewSet):
    """``NotificationViewSet`` served by a coroutine; its ``seen`` and ``read`` actions run in the ORM's thread."""
