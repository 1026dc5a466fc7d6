"""``TimelineView``: one timeline, a page at a time, as HTML or JSON.

The subclass decides which key a request reads (``get_timeline_key()``); the client
only chooses a position (``?cursor=``), so it can never read another user's key
unless the subclass lets it. Cursors point after the last item seen, so items added
between two requests are neither skipped nor repeated. A bad cursor is a 400.
"""

from django.core.exceptions import BadRequest, ImproperlyConfigured
from django.http import JsonResponse
from django.utils.cache import patch_vary_headers
from django.views.generic import View
from django.views.generic.base import ContextMixin, TemplateResponseMixin

from .exceptions import InvalidCursor
from .handler import timelines
from .hydrate import hydrate_pairs

JSON = "application/json"


class TimelineView(TemplateResponseMixin, ContextMixin, View):
    """A cursor-paginated timeline: ``object_list``, ``next_cursor``, ``has_next``, ``next_url``."""

    #: The TIMAK_TIMELINES alias to read.
    timeline_alias = "default"
    #: Items per page.
    paginate_by = 20
    #: The query parameter that carries the cursor.
    cursor_query_param = "cursor"
    #: ``?format=json`` asks for JSON, like ``Accept: application/json``.
    format_query_param = "format"
    #: Used after ``template_name``, and instead of it when it is not set.
    default_template_name = "django_timak/timeline.html"

    def get_timeline_key(self) -> str:
        """Return the key to read, from the request (e.g. ``f"user:{self.request.user.pk}:home"``)."""
        raise ImproperlyConfigured(f"{type(self).__name__} must define get_timeline_key()")

    def get_timeline(self):
        return timelines[self.timeline_alias]

    def get_paginate_by(self) -> int:
        return self.paginate_by

    def get_cursor(self) -> str | None:
        return self.request.GET.get(self.cursor_query_param) or None

    def get_page(self):
        """Return the ``Page`` to show; raise InvalidCursor for a cursor that is not ours."""
        return self.get_timeline().page(self.get_timeline_key(), limit=self.get_paginate_by(), cursor=self.get_cursor())

    def wants_json(self) -> bool:
        """Return True when the client asked for JSON (``?format=json`` or its Accept header)."""
        if self.request.GET.get(self.format_query_param) == "json":
            return True
        return self.request.get_preferred_type(["text/html", JSON]) == JSON

    def get_next_url(self, next_cursor: str | None) -> str | None:
        """Return this URL with the next page's cursor, other query parameters kept."""
        if next_cursor is None:
            return None
        query = self.request.GET.copy()
        query[self.cursor_query_param] = next_cursor
        return f"{self.request.path}?{query.urlencode()}"

    def serialize_item(self, item, entry) -> object:
        """Return the JSON form of one item (``item`` is a row or a value; ``entry`` is stored)."""
        return {"id": entry.id, "score": entry.score, "data": entry.data}

    def get_template_names(self) -> list[str]:
        names = [self.template_name] if self.template_name else []
        return names + [self.default_template_name]

    def get(self, request, *args, **kwargs):
        try:
            page = self.get_page()
        except InvalidCursor as e:
            if self.wants_json():
                return self._vary(JsonResponse({"error": "invalid cursor"}, status=400))
            raise BadRequest("invalid cursor") from e
        pairs = hydrate_pairs(page.entries)
        if self.wants_json():
            items = [self.serialize_item(item, entry) for entry, item in pairs]
            return self._vary(JsonResponse({"items": items, "next_cursor": page.next_cursor}))
        context = self.get_context_data(
            object_list=[item for _, item in pairs],
            next_cursor=page.next_cursor,
            has_next=page.has_next,
            next_url=self.get_next_url(page.next_cursor),
        )
        return self._vary(self.render_to_response(context))

    @staticmethod
    def _vary(response):
        patch_vary_headers(response, ["Accept"])
        return response
