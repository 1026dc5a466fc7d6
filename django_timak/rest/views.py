"""A generic view and viewsets for a timeline of hydrated rows, and for notification feeds.

The subclass decides the key (``get_timeline_key()``) from the request, never the
client, as with ``TimelineView``. A page is read once (merged with
``get_timeline_sources()``), hydrated with one query per model, then each item is
serialized by the serializer chosen for it: ``serializer_classes[Model]``, else
``serializer_class`` for rows, ``notification_serializer_class`` for groups and
``value_serializer_class`` for plain values. The reader's excluded actors
(``get_excluded_actors()``, by default ``TIMAK_EXCLUDED_ACTORS``'s) are left out of
pages and counts, as ``TimelineView`` leaves them out. Every step is a method, so an
async subclass can override the reads and keep the rest.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from rest_framework import generics, mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from .. import activitystreams
from ..exceptions import InvalidTimelineInput, TimelineUnavailable
from ..exclusion_settings import ExcludedActorsMixin
from ..hydrate import Notification, hydrate_pairs
from ..notifications import mark_read, mark_seen, read_marks, unread_count
from .exceptions import BadExclusions, api_errors
from .pagination import TimelinePagination
from .renderers import ActivityStreamsRenderer
from .serializers import MarkReadSerializer, MarkSeenSerializer, NotificationSerializer, ValueSerializer


class TimelineAPIMixin(ExcludedActorsMixin):
    """What a timeline's API views share: the key, the read, hydration and per-item serializers.

    Its ``list`` replaces ``ListModelMixin``'s, which the views keep as a base so that
    schema generators (drf-spectacular) see list views and their pagination.
    """

    #: The TIMAK_TIMELINES alias to read.
    timeline = "default"
    pagination_class = TimelinePagination
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, ActivityStreamsRenderer]
    #: ``{Model: Serializer}`` for pages that mix models; ``serializer_class`` serves the others.
    serializer_classes = {}
    notification_serializer_class = NotificationSerializer
    value_serializer_class = ValueSerializer
    #: Read the reader's marks: items carry ``unread``/``unseen``, the answer the counts.
    track_unread = False
    #: The verb of groups whose declaration stores none (``NotificationSerializer.get_verb``).
    notification_verb = None
    #: Seconds a client should wait before retrying when the store is unavailable.
    retry_after = 30

    def get_timeline_key(self) -> str:
        """Return the key to read, from the request (e.g. ``f"user:{self.request.user.pk}:home"``)."""
        raise ImproperlyConfigured(f"{type(self).__name__} must define get_timeline_key()")

    def get_timeline_sources(self) -> list[str]:
        """Return more keys to merge into the page: the timelines of pulled authors the reader follows."""
        return []

    def get_timeline_name(self) -> str:
        return self.timeline

    def get_exclusions(self) -> frozenset:
        """Return the refs of the actors this reader leaves out; raise BadExclusions (400) for a hook answer that is none."""
        try:
            return self.excluded_refs()
        except InvalidTimelineInput as e:
            raise BadExclusions(f"Invalid excluded actors: {e}") from e

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "verb": self.notification_verb}

    def get_item_serializer_class(self, item):
        """Return the serializer of one hydrated item."""
        if isinstance(item, Notification):
            return self.notification_serializer_class
        if isinstance(item, models.Model):
            return self.serializer_classes.get(type(item)) or self.get_serializer_class()
        return self.value_serializer_class

    def serialize_items(self, pairs) -> list:
        """Return the JSON form of the page's items, in order; a plain value shows as ``{"id", "score", "data"}``.

        Items of one serializer are serialized together (``many=True``), so its fields are built once a page.
        """
        by_serializer = {}
        for place, (entry, item) in enumerate(pairs):
            instance = item if isinstance(item, (Notification, models.Model)) else entry
            by_serializer.setdefault(self.get_item_serializer_class(item), []).append((place, instance))
        results = [None] * len(pairs)
        context = self.get_serializer_context()
        for serializer, placed in by_serializer.items():
            data = serializer([instance for _, instance in placed], many=True, context=context).data
            for (place, _), item_data in zip(placed, data):
                results[place] = item_data
        return results

    def read_page(self):
        """Return the ``Page`` the request asks for (the paginator raises DRF's errors)."""
        return self.paginator.paginate_timeline(
            self.get_timeline_name(), self.get_timeline_key(), self.request, self.get_timeline_sources(), view=self,
            exclude_actors=self.get_exclusions(),
        )

    def read_marks(self):
        """Return the reader's marks and counts, or ``(None, None)`` when unread is not tracked."""
        if not self.track_unread:
            return None, None
        with api_errors(self.retry_after):
            alias, key = self.get_timeline_name(), self.get_timeline_key()
            return read_marks(alias, key), unread_count(alias, key, exclude_actors=self.get_exclusions())

    def mark_opened(self, page) -> None:
        """Mark the feed seen up to its newest item when its first page is read; a failing store only delays it."""
        if self.track_unread and self.paginator.get_cursor(self.request) is None and page.entries:
            try:
                mark_seen(self.get_timeline_name(), self.get_timeline_key(), page.entries[0].score)
            except TimelineUnavailable:
                pass

    def list(self, request, *args, **kwargs):
        return self.answer_page(self.read_page())

    def answer_page(self, page) -> Response:
        """Return the answer to a page read: the reader's marks, the page's rows, its serialized items."""
        marks, counts = self.read_marks()
        pairs = hydrate_pairs(page.entries, marks)
        self.mark_opened(page)
        return self.respond(page, pairs, counts)

    def respond(self, page, pairs, counts) -> Response:
        """Return the page: AS2 when the client chose it, else DRF's cursor-page shape."""
        if getattr(self.request.accepted_renderer, "format", None) == ActivityStreamsRenderer.format:
            return Response(self.as_activities(page, pairs))
        extra = {} if counts is None else {"unread": counts.unread, "unseen": counts.unseen}
        return self.paginator.get_paginated_response(self.serialize_items(pairs), **extra)

    def as_activities(self, page, pairs) -> dict:
        """Return the page as an AS2 ``OrderedCollectionPage`` (override ``as_activity`` to shape items)."""
        document = activitystreams.page(
            pairs, self.request, self.paginator.get_next_link(), self.paginator.cursor_query_param, self.as_activity
        )
        document["partOf"] = self.paginator.get_first_link()
        previous = self.paginator.get_previous_link()
        if previous is not None:
            document["prev"] = previous
        return document

    def as_activity(self, entry, item, absolute) -> dict:
        """Return one item as an AS2 Activity."""
        if isinstance(item, Notification):
            return activitystreams.group_activity(item, absolute, self.notification_verb)
        return activitystreams.activity(entry, item, absolute)


class TimelineListAPIView(TimelineAPIMixin, mixins.ListModelMixin, generics.GenericAPIView):
    """``GET``: a page of a timeline, its rows serialized with ``serializer_class``."""

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


class TimelineViewSet(TimelineAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A router-ready timeline: ``list`` reads a page (register it with a ``basename``)."""


class NotificationActions:
    """The notification feed's reading defaults, and the ``seen`` and ``read`` actions that mark it and answer the counts."""

    track_unread = True
    serializer_class = NotificationSerializer
    timeline_kind = "notifications"

    @action(detail=False, methods=["post"], serializer_class=MarkSeenSerializer)
    def seen(self, request, *args, **kwargs):
        """Mark the feed seen up to ``up_to``, or up to its newest item."""
        body = MarkSeenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        excluded = self.get_exclusions()  # a bad hook answer is a 400 before anything is marked
        alias, key = self.get_timeline_name(), self.get_timeline_key()
        with api_errors(self.retry_after):
            up_to = body.validated_data.get("up_to")
            if up_to is None:
                newest = self.paginator.paginate_timeline(
                    alias, key, request, view=self, exclude_actors=excluded
                ).entries
                up_to = newest[0].score if newest else None
            mark_seen(alias, key, up_to)
            return Response(self.counts(alias, key))

    @action(detail=False, methods=["post"], serializer_class=MarkReadSerializer)
    def read(self, request, *args, **kwargs):
        """Mark ``items`` (id and score) read, or every item up to ``up_to``."""
        body = MarkReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        items = {item["id"]: item["score"] for item in body.validated_data.get("items", [])}
        self.get_exclusions()  # a bad hook answer is a 400 before anything is marked
        alias, key = self.get_timeline_name(), self.get_timeline_key()
        with api_errors(self.retry_after):
            mark_read(alias, key, items, up_to=body.validated_data.get("up_to"))
            return Response(self.counts(alias, key))

    def counts(self, alias, key) -> dict:
        counts = unread_count(alias, key, exclude_actors=self.get_exclusions())
        return {"unread": counts.unread, "unseen": counts.unseen}


class NotificationViewSet(NotificationActions, TimelineViewSet):
    """A notification feed: ``list``, and the ``seen`` and ``read`` actions that mark it and answer the counts."""
