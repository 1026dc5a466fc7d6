"""``TimelinePagination``: DRF's ``CursorPagination`` conventions over a timeline's (score, id) cursors.

The answer is ``{"next", "previous", "results"}`` with absolute links and opaque
cursors; the client may choose ``page_size`` up to ``max_page_size``. Unlike
``CursorPagination`` it pages a timeline key (merged with its pulled ``sources``, as
``TimelineView`` does, without the reader's excluded actors), not a queryset, and
ties of score never break it: the cursor holds the id too. ``previous`` reads back
the page before, the items and order the reader saw going forward; it is null on
the first page.
"""

from rest_framework.pagination import BasePagination, _positive_int
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from ..async_views import aread_page
from ..reading import read_page
from .exceptions import api_errors


class TimelinePagination(BasePagination):
    #: Items per page when the client does not choose.
    page_size = 20
    #: The query parameter that carries the cursor.
    cursor_query_param = "cursor"
    #: The query parameter a client chooses the page size with; None lets it not choose.
    page_size_query_param = "page_size"
    #: The largest page a client may ask for.
    max_page_size = 100
    #: Seconds a client should wait before retrying when the store is unavailable.
    retry_after = 30

    def paginate_timeline(self, alias: str, key: str, request, sources=(), view=None, exclude_actors=()):
        """Return the ``Page`` the request asks for; raise the DRF error for a bad cursor, key or a store that is down.

        ``exclude_actors`` (refs) leaves those actors' items out, ``limit`` items still
        shown when the timeline holds them; a ``(key, actor)`` source of one is not read.
        """
        with api_errors(self.retry_after):
            self.page = read_page(alias, key, **self.reading(request, sources, exclude_actors))
        return self.page

    async def apaginate_timeline(self, alias: str, key: str, request, sources=(), view=None, exclude_actors=()):
        """Async form of ``paginate_timeline``: the page read with ``Timeline.apage``, the same errors."""
        with api_errors(self.retry_after):
            self.page = await aread_page(alias, key, **self.reading(request, sources, exclude_actors))
        return self.page

    def reading(self, request, sources, exclude_actors) -> dict:
        """Remember the request, and return what the page read is asked for."""
        self.request = request
        self.base_url = request.build_absolute_uri()
        return {
            "limit": self.get_page_size(request), "cursor": self.get_cursor(request), "sources": sources,
            "exclude_actors": exclude_actors,
        }

    def get_page_size(self, request) -> int:
        """Return the client's ``page_size`` within ``max_page_size``, else ``page_size`` (a bad value is ignored)."""
        if self.page_size_query_param:
            try:
                return _positive_int(
                    request.query_params[self.page_size_query_param], strict=True, cutoff=self.max_page_size
                )
            except (KeyError, ValueError):
                pass
        return self.page_size

    def get_cursor(self, request) -> str | None:
        return request.query_params.get(self.cursor_query_param) or None

    def get_next_link(self) -> str | None:
        if self.page.next_cursor is None:
            return None
        return replace_query_param(self.base_url, self.cursor_query_param, self.page.next_cursor)

    def get_previous_link(self) -> str | None:
        if self.page.previous_cursor is None:
            return None
        return replace_query_param(self.base_url, self.cursor_query_param, self.page.previous_cursor)

    def get_first_link(self) -> str:
        """Return the first page's URL: this one without its cursor (the collection AS2 calls ``partOf``)."""
        return remove_query_param(self.base_url, self.cursor_query_param)

    def get_paginated_response(self, data, **extra) -> Response:
        """Return ``{"next", "previous", "results"}`` and any ``extra`` keys (a feed's unread counts)."""
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data, **extra})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The pagination cursor value.",
                "schema": {"type": "string"},
            }
        ]
        if self.page_size_query_param:
            parameters.append(
                {
                    "name": self.page_size_query_param,
                    "required": False,
                    "in": "query",
                    "description": f"Number of results to return per page (at most {self.max_page_size}).",
                    "schema": {"type": "integer"},
                }
            )
        return parameters
