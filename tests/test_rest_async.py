"""The async DRF views answer as the sync ones do, under DRF's APIClient and Django's AsyncClient.

Each request goes to a sync view (``/api/...``) and to its async form
(``/api/async/...``, ``tests.rest_async_urls``): the status, ``Retry-After``, media
type and body must be the same, links aside. Then the async views alone: under an
``AsyncClient`` the page is awaited (the sync read is never called) while the hooks
that ask the ORM still can, on the database store and on the Riak test server.
"""

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.test import AsyncClient, override_settings
from django.utils import timezone
from rest_framework.test import APIClient, APIRequestFactory

from django_timak import timelines
from django_timak.rest import pagination
from tests.models import Like, Photo, Post, Remark
from tests.rest_async_urls import AsyncNotificationsViewSet, AsyncProfileAPIView, AsyncRemarksViewSet, AsyncTopicAPIView
from tests.rest_urls import TopicAPIView
from tests.social import follow, make_users

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.rest_async_urls")]

START = timezone.now() - timedelta(days=10)
AS2 = "application/activity+json"


@pytest.fixture
def site(django_capture_on_commit_callbacks):
    """Alice's 20 posts (runs of equal times) and a photo, two likes of one, and remarks: a reader follows alice and carol, pulls bob."""
    alice, bob, carol, reader = make_users("alice", "bob", "carol", "reader")
    follow(reader, alice)
    follow(reader, carol)
    with django_capture_on_commit_callbacks(execute=True):
        posts = [Post.objects.create(author=alice, body=f"post {i}", created=START + timedelta(minutes=i // 3)) for i in range(20)]
        Photo.objects.create(owner=alice, caption="photo", taken=START + timedelta(minutes=2, seconds=30))
        for fan in (bob, carol):
            Like.objects.create(user=fan, post=posts[-1])
        for i in range(12):
            Remark.objects.create(author=(alice, bob, carol)[i % 3], body=f"remark {i}", created=START + timedelta(minutes=i))
    return {"alice": alice, "bob": bob, "carol": carol, "reader": reader}


def cursor_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["cursor"][0]


def same_links(body):
    """Return ``body`` as JSON text with the async URLs written as the sync ones."""
    return json.dumps(body, sort_keys=True).replace("/api/async/", "/api/")


def both(client, path, query=None, **headers):
    """Return the sync and the async view's (status, Retry-After, media type, body) for one GET."""
    said = []
    for prefix in ("/api/", "/api/async/"):
        response = client.get(prefix + path, query or {}, **headers)
        said.append((response.status_code, response.get("Retry-After"), response["Content-Type"], same_links(response.json())))
    return said


def test_the_async_views_are_coroutine_views():
    for view in (AsyncProfileAPIView, AsyncTopicAPIView, AsyncRemarksViewSet, AsyncNotificationsViewSet):
        assert view.view_is_async, view


@pytest.fixture
def api(site):
    client = APIClient()
    client.force_authenticate(site["reader"])
    return client


def test_pages_next_and_previous_links_and_page_sizes_are_the_sync_views(api, site):
    path, query = f"users/{site['alice'].pk}/posts/", {"page_size": 6}
    synced, awaited = both(api, path, query)
    assert awaited == synced and synced[0] == 200
    second = api.get(json.loads(synced[3])["next"]).json()
    third = api.get(second["next"]).json()
    for link in (second["next"], third["previous"], second["previous"]):
        synced, awaited = both(api, path, {**query, "cursor": cursor_of(link)})
        assert awaited == synced
    back = api.get(third["previous"].replace("/api/", "/api/async/")).json()
    assert back["results"] == second["results"] and same_links(back) == same_links(second)


@pytest.mark.parametrize(
    ("query", "headers"), [({"format": "as2"}, {}), ({}, {"HTTP_ACCEPT": AS2}), ({"page_size": 3, "format": "as2"}, {})]
)
def test_activity_streams_pages_are_the_sync_views(api, site, query, headers):
    synced, awaited = both(api, f"users/{site['alice'].pk}/posts/", query, **headers)
    assert awaited == synced and synced[2] == AS2


def test_pulled_sources_and_excluded_actors_read_by_the_orm_are_the_sync_views(api, site):
    query = {"pulled": site["bob"].pk, "without": "carol", "page_size": 3}
    synced, awaited = both(api, "remarks/", query)
    assert awaited == synced
    first = json.loads(synced[3])
    assert [r["body"] for r in first["results"]] == ["remark 10", "remark 9", "remark 7"]
    previous = api.get(api.get(first["next"]).json()["next"]).json()["previous"]
    synced, awaited = both(api, "remarks/", {**query, "cursor": cursor_of(previous)})
    assert awaited == synced and json.loads(synced[3])["results"] == api.get(first["next"]).json()["results"]


def test_errors_are_the_sync_views_in_drfs_format(api, site):
    for path, query, status in [
        ("remarks/", {"cursor": "forged"}, 400),
        ("broken/", {}, 400),
        ("topics/" + "x" * 2000 + "/", {}, 404),
    ]:
        synced, awaited = both(api, path, query)
        assert awaited == synced and synced[0] == status and "detail" in json.loads(synced[3])
    synced, awaited = both(APIClient(), "home/")
    assert awaited == synced and synced[0] == 403


def test_a_store_that_cannot_answer_is_a_503_with_retry_after(api):
    with override_settings(TIMAK_TIMELINES={"default": {"BACKEND": "tests.backends.UnreachableBackend"}}):
        synced, awaited = both(api, "topics/news/")
    assert awaited == synced and synced[:2] == (503, "30")


def test_the_async_notification_feed_lists_and_marks_as_the_sync_one(site):
    client = APIClient()
    client.force_authenticate(site["alice"])
    feed = client.get("/api/async/notifications/").json()
    (group,) = feed["results"]
    assert (group["actor_count"], group["verb"], feed["unread"]) == (2, "like", 1)
    assert client.post("/api/async/notifications/seen/", {}, format="json").json() == {"unread": 1, "unseen": 0}
    answer = client.post("/api/async/notifications/read/", {"up_to": group["score"]}, format="json")
    assert answer.json() == {"unread": 0, "unseen": 0}
    assert client.post("/api/async/notifications/read/", {}, format="json").status_code == 400


def never_sync(*args, **kwargs):
    raise AssertionError("the async view read its page with the sync read_page")


def test_under_an_async_client_the_page_is_awaited_and_the_orm_hooks_still_run(site, monkeypatch):
    monkeypatch.setattr(pagination, "read_page", never_sync)

    async def walk():
        client = AsyncClient()
        await client.aforce_login(site["reader"])
        query = {"pulled": site["bob"].pk, "without": "alice", "page_size": 2}
        pages = [(await client.get("/api/async/remarks/", query)).json()]
        while pages[-1]["next"]:
            pages.append((await client.get(pages[-1]["next"])).json())
        back = (await client.get(pages[-1]["previous"])).json()
        cursor = cursor_of(back["previous"])
        bad = await client.get("/api/async/remarks/", {**query, "cursor": cursor[:-1] + ("A" if cursor[-1] != "A" else "B")})
        return pages, back, bad

    pages, back, bad = async_to_sync(walk)()
    shown = [r["body"] for page in pages for r in page["results"]]
    assert shown == [f"remark {i}" for i in range(11, -1, -1) if i % 3]
    assert back["results"] == pages[-2]["results"] and cursor_of(back["next"]) == cursor_of(pages[-2]["next"])
    assert bad.status_code == 400 and bad.json() == {"detail": "Invalid cursor."}


async def awaited(response):
    return await response


def served(view, query):
    """Return the DRF ``Response`` of a GET of the news topic, awaited when the view is a coroutine."""
    response = view(APIRequestFactory().get("/t/", query), topic="news")
    return async_to_sync(awaited)(response) if hasattr(response, "__await__") else response


def test_on_the_riak_test_server_the_async_view_pages_as_the_sync_one(riak_url, riak_bucket):
    riak = {"BACKEND": "django_timak.backends.riak.RiakBackend", "OPTIONS": {"URL": riak_url, "BUCKET": riak_bucket}}
    said = []
    with override_settings(TIMAK_TIMELINES={"riak": riak}):
        timelines["riak"].add_many("topic:news", [(f"n{i}", i // 2, {"n": i}) for i in range(9)])
        for view in (AsyncTopicAPIView.as_view(timeline="riak"), TopicAPIView.as_view(timeline="riak")):
            first = served(view, {"page_size": 4})
            second = served(view, {"page_size": 4, "cursor": cursor_of(first.data["next"])})
            back = served(view, {"page_size": 4, "cursor": cursor_of(second.data["previous"])})
            said.append([dict(page.data) for page in (first, second, back)])
    assert said[0] == said[1]
    assert [item["id"] for item in said[0][0]["results"]] == ["n8", "n7", "n6", "n5"]
    assert said[0][2] == said[0][0]


def test_generateschema_describes_the_async_views_as_the_sync_ones(tmp_path):
    out = tmp_path / "schema.json"
    call_command("generateschema", "--urlconf", "tests.rest_async_urls", "--format", "openapi-json", "--file", str(out))
    paths = json.loads(out.read_text())["paths"]
    for path in ("users/{user_id}/posts/", "remarks/", "notifications/"):
        synced, awaited = paths[f"/api/{path}"]["get"], paths[f"/api/async/{path}"]["get"]
        assert [p["name"] for p in awaited["parameters"]] == [p["name"] for p in synced["parameters"]]
        assert awaited["responses"] == synced["responses"]
    assert "/api/async/notifications/read/" in paths
