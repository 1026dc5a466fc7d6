"""AsyncTimelineView answers as TimelineView does: pages, 400, 404 and 503, as JSON and HTML."""

import json

import pytest
from asgiref.sync import async_to_sync
from django.test import override_settings

from django_timak import timelines
from django_timak.async_views import AsyncTimelineView
from django_timak.entries import Entry
from tests.views import TopicView

STORES = {
    "memory": {"BACKEND": "django_timak.backends.memory.MemoryBackend", "MAX_ITEMS": 100},
    "down": {"BACKEND": "tests.backends.UnreachableBackend"},
}


class AsyncTopicView(AsyncTimelineView, TopicView):
    """The test project's topic view, served by a coroutine."""


async def awaited(coroutine):
    return await coroutine


def answers(rf, query, topic="news", alias="memory"):
    """Return the sync and the async view's (status, Retry-After, body) for one request."""
    said = []
    for view in (TopicView.as_view(timeline=alias, paginate_by=2), AsyncTopicView.as_view(timeline=alias, paginate_by=2)):
        response = view(rf.get(f"/topics/{topic}/", query), topic=topic)
        if hasattr(response, "__await__"):
            response = async_to_sync(awaited)(response)
        if hasattr(response, "render"):
            response.render()
        said.append((response.status_code, response.get("Retry-After"), response.content))
    return said


@pytest.fixture
def stored():
    with override_settings(TIMAK_TIMELINES=STORES):
        timelines["memory"].add_many("topic:news", [(i, i, {"n": i}) for i in range(5)])
        yield
        timelines["memory"].backend.clear()


def test_the_async_view_is_a_coroutine_view():
    assert AsyncTopicView.view_is_async and not TopicView.view_is_async


@pytest.mark.parametrize("query", [{"format": "json"}, {}, {"format": "xml"}, {"cursor": "not ours", "format": "json"}, {"cursor": "nope"}])
def test_pages_and_bad_input_answer_as_the_sync_view_does(rf, stored, query):
    synced, awaited = answers(rf, query)
    assert awaited == synced


def test_the_next_page_follows_the_cursor(rf, stored):
    first = json.loads(answers(rf, {"format": "json"})[1][2])
    second = json.loads(answers(rf, {"format": "json", "cursor": first["next_cursor"]})[1][2])
    assert [i["id"] for i in first["items"]] == [4, 3] and [i["id"] for i in second["items"]] == [2, 1]


@pytest.mark.parametrize("topic", ["x" * 300, "a\x00b"])
def test_an_impossible_key_is_a_404(rf, stored, topic):
    synced, awaited = answers(rf, {"format": "json"}, topic=topic)
    assert awaited == synced and awaited[0] == 404


@pytest.mark.parametrize("query", [{"format": "json"}, {}])
def test_a_store_that_is_down_is_a_503_with_retry_after(rf, stored, query):
    synced, awaited = answers(rf, query, alias="down")
    assert awaited == synced and awaited[:2] == (503, "30")


class ExcludingTopicView(TopicView):
    """The topic view of a reader who excludes one actor, and answers junk for the "bad" topic."""

    def get_excluded_actors(self):
        return "not a set" if self.kwargs["topic"] == "bad" else {"tests.user:1"}


class AsyncExcludingTopicView(AsyncTimelineView, ExcludingTopicView):
    """The same, served by a coroutine."""


def excluding_answers(rf, query, topic):
    said = []
    for view in (ExcludingTopicView.as_view(timeline="memory"), AsyncExcludingTopicView.as_view(timeline="memory")):
        response = view(rf.get(f"/topics/{topic}/", query), topic=topic)
        if hasattr(response, "__await__"):
            response = async_to_sync(awaited)(response)
        said.append((response.status_code, response.content))
    return said


def test_the_async_view_leaves_out_the_excluded_actors_and_answers_400_to_a_bad_answer(rf):
    with override_settings(TIMAK_TIMELINES=STORES):
        timeline = timelines["memory"]
        changes = [Entry(i, i, i + 1, {"n": i}, False, f"tests.user:{i % 2}") for i in range(6)]
        timeline.replay("topic:news", changes)
        timeline.replay("topic:bad", changes)
        try:
            synced, in_async = excluding_answers(rf, {"format": "json"}, "news")
            assert in_async == synced and synced[0] == 200
            assert [item["id"] for item in json.loads(in_async[1])["items"]] == [4, 2, 0]
            synced, in_async = excluding_answers(rf, {"format": "json"}, "bad")
            assert synced[0] == in_async[0] == 400
            synced, in_async = excluding_answers(rf, {"format": "json", "limit": "0"}, "news")
            assert synced[0] == in_async[0] == 400
        finally:
            timeline.backend.clear()


def excluded_by_query(request, kind):
    """A site's exclusions that ask the database: they must run in the ORM's thread, never on the event loop."""
    from tests.models import User

    return {f"tests.user:{pk}" for pk in User.objects.filter(username="blocked").values_list("pk", flat=True)}


@pytest.mark.django_db(transaction=True)
def test_a_setting_that_queries_the_database_runs_in_the_orm_thread_and_excludes(rf, settings):
    from tests.models import User

    settings.TIMAK_EXCLUDED_ACTORS = "tests.test_async_views.excluded_by_query"
    blocked = User.objects.create(username="blocked")
    with override_settings(TIMAK_TIMELINES=STORES):
        timeline = timelines["memory"]
        timeline.replay("topic:news", [Entry(i, i, i + 1, None, False, f"tests.user:{blocked.pk + i % 2}") for i in range(4)])
        try:
            synced, awaited = answers(rf, {"format": "json"})
            assert awaited == synced and awaited[0] == 200
            assert [item["id"] for item in json.loads(awaited[2])["items"]] == [3, 1]
        finally:
            timeline.backend.clear()
