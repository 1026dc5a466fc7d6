"""The DRF face: walking a timeline through TimelinePagination, mixed models, errors in DRF's format, schemas."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from django_timak import timelines
from tests.models import Photo, Post
from tests.social import follow, make_users, ref

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.rest_urls")]

START = timezone.now() - timedelta(days=10)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def author(django_capture_on_commit_callbacks):
    """An author with 45 posts in runs of three with equal timestamps, and two photos."""
    (alice,) = make_users("alice")
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(45):
            Post.objects.create(author=alice, body=f"post {i}", created=START + timedelta(minutes=i // 3))
        for i in range(2):
            Photo.objects.create(owner=alice, caption=f"photo {i}", taken=START + timedelta(minutes=i, seconds=30))
    return alice


def walk(api, url, link, **query):
    """Return the bodies of the pages from ``url`` on, following the ``link`` ("next" or "previous") of each."""
    bodies = [api.get(url, query).json()]
    while bodies[-1][link]:
        bodies.append(api.get(bodies[-1][link]).json())
    return bodies


def test_next_links_walk_every_item_once_in_timeline_order_over_ties(api, author):
    url, seen, sizes = f"/api/users/{author.pk}/posts/", [], []
    while url:
        body = api.get(url).json()
        assert set(body) == {"next", "previous", "results"}
        seen.extend(body["results"])
        sizes.append(len(body["results"]))
        url = body["next"]
        assert url is None or url.startswith("http://testserver/api/users/")
    stored = [e.id for e in timelines["default"].get(f"user:{author.pk}:posts", raw=True)]
    shown = [f"tests.{'photo' if 'caption' in item else 'post'}:{item['id']}" for item in seen]
    assert shown == stored and sizes == [20, 20, 7]


def test_previous_links_walk_back_through_the_pages_seen_going_forward(api, author):
    pages = walk(api, f"/api/users/{author.pk}/posts/", "next", page_size=6)
    back = walk(api, pages[-1]["previous"], "previous")
    assert pages[0]["previous"] is None and all(page["previous"] for page in pages[1:])
    assert [page["results"] for page in back] == [page["results"] for page in pages[-2::-1]]
    assert back[-1]["previous"] is None and "page_size=6" in back[-1]["next"]
    assert api.get(back[0]["next"]).json() == pages[-1]


def test_a_tampered_previous_cursor_is_a_400_in_drfs_error_format(api, author):
    previous = walk(api, f"/api/users/{author.pk}/posts/", "next")[1]["previous"]
    response = api.get(previous[:-2] + ("A" if previous[-2] != "A" else "B") + previous[-1])
    assert response.status_code == 400 and response.json() == {"detail": "Invalid cursor."}


def test_rows_of_each_model_use_the_serializer_named_for_them(api, author):
    results = api.get(f"/api/users/{author.pk}/posts/", {"page_size": 50}).json()["results"]
    photos = [item for item in results if "caption" in item]
    posts = [item for item in results if "body" in item]
    assert len(photos) == 2 and set(photos[0]) == {"id", "caption"}
    assert len(posts) == 45 and set(posts[0]) == {"id", "author", "body", "created"} and posts[0]["author"] == "alice"


def test_page_size_is_the_clients_within_the_maximum(api, author):
    url = f"/api/users/{author.pk}/posts/"
    assert len(api.get(url, {"page_size": 5}).json()["results"]) == 5
    assert len(api.get(url, {"page_size": 1000}).json()["results"]) == 47  # capped at 100: all 47
    assert len(api.get(url, {"page_size": "nope"}).json()["results"]) == 20
    assert "page_size=5" in api.get(url, {"page_size": 5}).json()["next"]


def test_a_page_of_20_posts_costs_one_query_per_model(api, author):
    with CaptureQueriesContext(connection) as queries:
        body = api.get(f"/api/users/{author.pk}/posts/").json()
    models = {item.get("caption") is not None for item in body["results"]}
    # The timeline row, then one query for posts (their authors joined) and one for photos.
    assert len(body["results"]) == 20 and len(queries) == 1 + len(models)


def test_a_viewset_merges_pulled_sources_into_the_home_page(api, author, django_capture_on_commit_callbacks):
    reader, bob = make_users("reader", "bob")
    with django_capture_on_commit_callbacks(execute=True):
        follow(reader, author)
        pulled = Post.objects.create(author=bob, body="pulled", created=timezone.now())
    api.force_authenticate(reader)
    plain = api.get("/api/home/").json()["results"]
    merged = api.get("/api/home/", {"pulled": bob.pk}).json()["results"]
    assert pulled.pk not in [item["id"] for item in plain]
    assert merged[0]["id"] == pulled.pk and merged[1:] == plain[:19]
    assert api.get("/api/home/", {"pulled": bob.pk}).json()["next"].count("pulled=") == 1
    pages = walk(api, "/api/home/", "next", pulled=bob.pk, page_size=7)
    back = walk(api, pages[-1]["previous"], "previous")
    assert [page["results"] for page in back] == [page["results"] for page in pages[-2::-1]]
    assert back[-1]["results"][0]["id"] == pulled.pk and "pulled=" in back[-1]["next"]


def test_the_home_viewset_asks_for_a_signed_in_user(api):
    assert api.get("/api/home/").status_code == 403


def test_a_bad_cursor_is_a_400_in_drfs_error_format(api, author):
    response = api.get(f"/api/users/{author.pk}/posts/", {"cursor": "forged"})
    assert response.status_code == 400 and response.json() == {"detail": "Invalid cursor."}


def test_a_key_the_url_makes_invalid_is_a_404_in_drfs_error_format(api):
    response = api.get("/api/topics/" + "x" * 2000 + "/")
    assert response.status_code == 404 and response.json() == {"detail": "No such timeline."}


DOWN = {
    "default": {"BACKEND": "tests.backends.UnreachableBackend"},
}


def test_a_store_that_cannot_answer_is_a_503_with_retry_after(api):
    with override_settings(TIMAK_TIMELINES=DOWN):
        response = api.get("/api/topics/news/")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert response.json() == {"detail": "Timeline unavailable, try again later."}


def test_generateschema_describes_the_cursor_the_page_size_and_the_page(tmp_path):
    out = tmp_path / "schema.json"
    call_command("generateschema", "--urlconf", "tests.rest_urls", "--format", "openapi-json", "--file", str(out))
    schema = json.loads(out.read_text())
    operation = schema["paths"]["/api/users/{user_id}/posts/"]["get"]
    assert [p["name"] for p in operation["parameters"] if p["in"] == "query"] == ["cursor", "page_size"]
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(page["properties"]) == {"next", "previous", "results"}
    row = page["properties"]["results"]["items"]["$ref"].rpartition("/")[2]
    assert set(schema["components"]["schemas"][row]["properties"]) == {"id", "author", "body", "created"}
    assert "/api/notifications/read/" in schema["paths"]


def test_only_the_rest_package_imports_drf():
    import ast
    from pathlib import Path

    import django_timak

    package = Path(django_timak.__file__).parent
    importers = set()
    for module in package.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name.split(".")[0] == "rest_framework" for name in names):
                importers.add(module.relative_to(package).parts[0])
    assert importers == {"rest"}
