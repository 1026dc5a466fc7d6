"""``TimelineView``: one timeline, a page at a time, as HTML or JSON.

The subclass decides which key a request reads (``get_timeline_key()``); the client
only chooses a position (``?cursor=``), so it can never read another user's key
unless the subclass lets it. Cursors point after the last item seen, so items added
between two requests are neither skipped nor repeated.

The client's mistakes are 4xx answers, never 500s: a bad cursor or an unknown
``?format=`` is a 400, a key the URL makes invalid is a 404. A store that is down
is a 503 with ``Retry-After`` (see ``django_timak.reading``).
"""

from django.core.exceptions import BadRequest, ImproperlyConfigured
from django.db import models
from django.http import Http404, JsonResponse
from django.urls import get_resolver, get_urlconf
from django.utils.cache import patch_vary_headers
from django.views.generic import View
from django.views.generic.base import ContextMixin, TemplateResponseMixin

from . import activitystreams
from .exceptions import InvalidCursor, InvalidKey, InvalidTimelineInput, TimelineUnavailable
from .exclusion_settings import ExcludedActorsMixin
from .hydrate import Notification, hydrate_pairs
from .notifications import mark_seen, read_marks, unread_count
from .reading import read_page

JSON = "application/json"
AS2 = activitystreams.MEDIA_TYPE
FORMATS = ("html", "json", "as2")


class InvalidPageSize(ValueError):
    """A client asked for a page size that is not a whole number of at least 1."""


class TimelineView(ExcludedActorsMixin, TemplateResponseMixin, ContextMixin, View):
    """A cursor-paginated timeline: ``object_list``, ``next_cursor``, ``has_next``, ``next_url`` (and ``previous_*``).

    When the store cannot answer, the template is rendered with status 503, an
    empty ``object_list`` and ``unavailable`` set, so the site keeps its layout.
    """

    #: The TIMAK_TIMELINES alias to read, as ``timeline=`` in the tag and TimelineField.
    timeline = "default"
    #: The name of ``timeline`` before 0.2; a subclass that sets it still wins.
    timeline_alias = None
    #: Items per page, unless the client chooses (``page_size_query_param``).
    paginate_by = 20
    #: The query parameter a client chooses the page size with (None: it cannot).
    page_size_query_param = "limit"
    #: The largest page size a client may choose; larger asks get this many, as in DRF.
    max_paginate_by = 100
    #: The query parameter that carries the cursor.
    cursor_query_param = "cursor"
    #: ``?format=json`` asks for JSON, like ``Accept: application/json``; ``?format=html`` for HTML.
    format_query_param = "format"
    #: Seconds a client should wait before retrying when the store is unavailable.
    retry_after = 30
    #: Used after ``template_name``, and instead of it when it is not set.
    default_template_name = "django_timak/timeline.html"
    #: Read the reader's marks (``django_timak.notifications``): items carry ``unread`` and
    #: ``unseen``, the answer carries the counts, and opening the first page marks it seen.
    track_unread = False

    def get_timeline_key(self) -> str:
        """Return the key to read, from the request (e.g. ``f"user:{self.request.user.pk}:home"``)."""
        raise ImproperlyConfigured(f"{type(self).__name__} must define get_timeline_key()")

    def get_timeline_sources(self) -> list[str]:
        """Return more keys to merge into the page: the timelines of pulled authors the reader follows."""
        return []

    def get_timeline_name(self) -> str:
        """Return the TIMAK_TIMELINES alias this request reads."""
        return self.timeline_alias or self.timeline

    def get_paginate_by(self) -> int:
        """Return the page size: the client's ``?limit=`` up to ``max_paginate_by``, else ``paginate_by``.

        Raise InvalidPageSize for a size that is not a whole number of at least 1.
        """
        asked = self.request.GET.get(self.page_size_query_param) if self.page_size_query_param else None
        if asked is None:
            return self.paginate_by
        if not asked.isascii() or not asked.isdigit() or int(asked) < 1:
            raise InvalidPageSize(f"{self.page_size_query_param} must be a whole number of at least 1")
        return min(int(asked), self.max_paginate_by)

    def get_cursor(self) -> str | None:
        return self.request.GET.get(self.cursor_query_param) or None

    def get_page(self):
        """Return the ``Page`` to show.

        Raise InvalidCursor for a cursor that is not ours, InvalidKey for a key no
        timeline can have, TimelineUnavailable when the store cannot answer.
        """
        return read_page(
            self.get_timeline_name(), self.get_timeline_key(), limit=self.get_paginate_by(), cursor=self.get_cursor(),
            sources=self.get_timeline_sources(), exclude_actors=self.excluded_refs(),
        )

    def get_format(self) -> str | None:
        """Return "json", "as2" (Activity Streams 2.0) or "html" as the client asked (``?format=``, else Accept); None if unknown."""
        asked = self.request.GET.get(self.format_query_param)
        if asked:
            return asked.lower() if asked.lower() in FORMATS else None
        return {JSON: "json", AS2: "as2"}.get(self.request.get_preferred_type(["text/html", JSON, AS2]), "html")

    def wants_json(self) -> bool:
        """Return True when the client asked for JSON."""
        return self.get_format() == "json"

    def get_next_url(self, next_cursor: str | None) -> str | None:
        """Return this URL with the next page's cursor, other query parameters kept."""
        if next_cursor is None:
            return None
        query = self.request.GET.copy()
        query[self.cursor_query_param] = next_cursor
        return f"{self.request.path}?{query.urlencode()}"

    def get_previous_url(self, previous_cursor: str | None) -> str | None:
        """Return this URL with the previous page's cursor (the newer page, in a newest-first timeline)."""
        return self.get_next_url(previous_cursor)

    def serialize_item(self, item, entry) -> object:
        """Return the JSON form of one item (``item`` is a row, a ``Notification`` or a value; ``entry`` is stored)."""
        if isinstance(item, Notification):
            return item.as_json()
        answer = {"id": entry.id, "score": entry.score, "data": entry.data}
        if isinstance(item, models.Model):
            answer["text"] = str(item)
            if hasattr(item, "get_absolute_url"):
                answer["url"] = self.request.build_absolute_uri(item.get_absolute_url())
        return answer

    def get_template_names(self) -> list[str]:
        names = [self.template_name] if self.template_name else []
        return names + [self.default_template_name]

    def get(self, request, *args, **kwargs):
        answer_format = self.get_format()
        if answer_format is None:
            return self._vary(self.error(False, 400, f"unknown format; choose one of: {', '.join(FORMATS)}"))
        as_json = answer_format in ("json", "as2")
        try:
            page = self.get_page()
            marks = read_marks(self.get_timeline_name(), self.get_timeline_key()) if self.track_unread else None
            counts = (
                unread_count(self.get_timeline_name(), self.get_timeline_key(), exclude_actors=self.excluded_refs())
                if self.track_unread else None
            )
        except InvalidCursor:
            return self._vary(self.error(as_json, 400, "invalid cursor"))
        except InvalidPageSize as e:
            return self._vary(self.error(as_json, 400, str(e)))
        except InvalidKey:
            return self._vary(self.error(as_json, 404, "no such timeline"))
        except InvalidTimelineInput as e:  # get_excluded_actors() answered what is not a set of actors
            return self._vary(self.error(as_json, 400, f"invalid excluded actors: {e}"))
        except TimelineUnavailable:
            return self._vary(self.unavailable(as_json))
        pairs = hydrate_pairs(page.entries, marks)
        next_url = self.get_next_url(page.next_cursor)
        if self.track_unread and self.get_cursor() is None and page.entries:
            self.mark_seen(page.entries[0].score)
        if answer_format == "as2":
            answer = activitystreams.page(pairs, request, next_url, self.cursor_query_param)
            return self._vary(JsonResponse(answer, content_type=AS2))
        if as_json:
            items = [self.serialize_item(item, entry) for entry, item in pairs]
            answer = {"items": items, "next_cursor": page.next_cursor, "next": next_url}
            if counts is not None:
                answer.update(unread=counts.unread, unseen=counts.unseen)
            return self._vary(JsonResponse(answer))
        context = self.get_context_data(
            object_list=[item for _, item in pairs],
            next_cursor=page.next_cursor,
            has_next=page.has_next,
            next_url=next_url,
            previous_cursor=page.previous_cursor,
            has_previous=page.has_previous,
            previous_url=self.get_previous_url(page.previous_cursor),
            timeline_keys=page.keys,
            unavailable=False,
            unread=counts,
        )
        return self._vary(self.render_to_response(context))

    def mark_seen(self, score) -> None:
        """Record that the reader saw the feed up to ``score``; a store that fails only delays it."""
        try:
            mark_seen(self.get_timeline_name(), self.get_timeline_key(), score)
        except TimelineUnavailable:
            pass

    def error(self, as_json: bool, status: int, message: str):
        """Return a 400 or 404 answer: a JSON error body, or the project's own error page.

        Answered rather than raised, so that no traceback is logged for a client's
        mistake (Django logs a raised BadRequest with its traceback).
        """
        if as_json:
            return JsonResponse({"error": message}, status=status)
        exception = (Http404 if status == 404 else BadRequest)(message)
        return get_resolver(get_urlconf()).resolve_error_handler(status)(self.request, exception)

    def unavailable(self, as_json: bool):
        """Return the 503 answer for a store that cannot answer now."""
        if as_json:
            response = JsonResponse({"error": "timeline unavailable", "retry_after": self.retry_after}, status=503)
        else:
            context = self.get_context_data(
                object_list=[], next_cursor=None, has_next=False, next_url=None, unavailable=True
            )
            response = self.render_to_response(context, status=503)
        response["Retry-After"] = str(self.retry_after)
        return response

    @staticmethod
    def _vary(response):
        patch_vary_headers(response, ["Accept"])
        return response
