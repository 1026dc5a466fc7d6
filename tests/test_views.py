"""TimelineView: walking a timeline to the end in HTML and JSON, and answering bad input and a dead store."""

import html
import json
import logging
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings
from django.utils import timezone

from django_timak import timelines
from django_timak.views import TimelineView
from tests.models import Post
from tests.social import follow, make_users, ref

pytestmark = pytest.mark.django_db

START = timezone.now() - timedelta(days=10)


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    """Save posts as a request would: fan-out runs when the (captured) commit happens."""

    def publish(author, body, created):
        with django_capture_on_commit_callbacks(execute=True):
            return Post.objects.create(author=author, body=body, created=created)

    return publish


@pytest.fixture
def author(publish):
    """An author with 95 posts, in runs of three with equal timestamps."""
    (alice,) = make_users("alice")
    for i in range(95):
        publish(alice, f"post {i}", START + timedelta(minutes=i // 3))
    return alice


def walk(client, first_url, fetch_page, publish, author):
    """Follow next links to the end, publishing a newer and an older post between pages."""
    seen, sizes, url, newer, older = [], [], first_url, [], []
    while url:
        items, url = fetch_page(client.get(url) if isinstance(url, str) else url())
        seen.extend(items)
        sizes.append(len(items))
        n = len(sizes)
        newer.append(ref(publish(author, f"newer {n}", timezone.now() + timedelta(minutes=n))))
        older.append(ref(publish(author, f"older {n}", START - timedelta(minutes=n))))
    return seen, sizes, newer, older


def check_walk(author, seen, sizes, newer, older):
    originals = [ref(p) for p in Post.objects.filter(body__startswith="post ")]
    final = [e.id for e in timelines["default"].get(f"user:{author.pk}:posts", raw=True)]
    assert len(seen) == len(set(seen)), "an item was repeated"
    assert set(originals) <= set(seen), "an item was skipped"
    assert seen == [i for i in final if i in set(seen)], "items out of timeline order"
    assert not set(newer) & set(seen), "items above the cursor appeared in a later page"
    assert set(older[:-1]) <= set(seen), "items added below the cursor were skipped"
    assert sizes[:4] == [20, 20, 20, 20] and sizes[-1] <= 20


def test_the_html_view_walks_95_items_in_pages_of_20(client, author, publish):
    def fetch(response):
        assert response.status_code == 200 and response["Vary"] == "Accept"
        context = response.context
        body = response.content.decode()
        assert body.count('<article class="post"') == len(context["object_list"])
        if context["has_next"]:
            assert f'href="{html.escape(context["next_url"])}"' in body
            assert context["next_url"].endswith(f"cursor={context['next_cursor']}")
        else:
            assert context["next_cursor"] is None and context["next_url"] is None
        return [ref(p) for p in context["object_list"]], context["next_url"]

    check_walk(author, *walk(client, f"/users/{author.pk}/posts/", fetch, publish, author))


@pytest.mark.parametrize("how", ["format", "accept"])
def test_the_json_view_walks_95_items_in_pages_of_20(client, author, publish, how):
    def get(cursor=None):
        query = {"cursor": cursor} if cursor else {}
        if how == "format":
            return client.get(f"/users/{author.pk}/posts/", {**query, "format": "json"})
        return client.get(f"/users/{author.pk}/posts/", query, headers={"Accept": "application/json"})

    def fetch(response):
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        body = response.json()
        assert set(body) == {"items", "next_cursor", "next"}
        assert (body["next"] is None) == (body["next_cursor"] is None)
        assert all(item["author"] == "alice" and item["body"] for item in body["items"])
        cursor = body["next_cursor"]
        return [item["id"] for item in body["items"]], (lambda: get(cursor)) if cursor else None

    check_walk(author, *walk(client, get, fetch, publish, author))


@pytest.mark.parametrize("cursor", ["garbage", "A" * 5000, "eyJhIjoxfQ"])
@pytest.mark.parametrize("as_json", [False, True])
def test_a_bad_cursor_is_a_400(client, author, cursor, as_json):
    query = {"cursor": cursor, **({"format": "json"} if as_json else {})}
    response = client.get(f"/users/{author.pk}/posts/", query)
    assert response.status_code == 400
    if as_json:
        assert response.json() == {"error": "invalid cursor"}


def test_an_altered_cursor_is_a_400(client, author):
    cursor = client.get(f"/users/{author.pk}/posts/", {"format": "json"}).json()["next_cursor"]
    altered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    assert client.get(f"/users/{author.pk}/posts/", {"cursor": altered}).status_code == 400


def test_the_home_view_reads_the_signed_in_users_key_with_its_template(client, publish):
    alice, bob, carol = make_users("alice", "bob", "carol")
    follow(bob, alice)
    post = publish(alice, "for my followers", timezone.now())
    client.force_login(bob)
    response = client.get("/home/", {"user_id": carol.pk})
    assert [t.name for t in response.templates][:2] == ["tests/home.html", "django_timak/timeline.html"]
    assert "<h1>Home of bob</h1>" in response.content.decode()
    assert list(response.context["object_list"]) == [post]
    client.force_login(carol)
    assert list(client.get("/home/").context["object_list"]) == []
    assert "Nothing here yet." in client.get("/home/").content.decode()


def test_a_browser_accept_header_gets_html(client, author):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get(f"/users/{author.pk}/posts/", headers={"Accept": browser})
    assert response["Content-Type"].startswith("text/html")


def test_a_view_must_say_which_key_it_reads():
    view = TimelineView.as_view()
    with pytest.raises(ImproperlyConfigured, match="must define get_timeline_key"):
        view(RequestFactory().get("/"))


def test_the_json_next_url_keeps_other_query_parameters(client, author):
    body = client.get(f"/users/{author.pk}/posts/", {"format": "json", "lang": "fr"}).json()
    assert body["next"] == f"/users/{author.pk}/posts/?format=json&lang=fr&cursor={body['next_cursor']}"
    following = client.get(body["next"]).json()
    assert following["items"] and following["items"][0]["id"] not in [i["id"] for i in body["items"]]


def test_a_bad_cursor_is_logged_without_a_traceback(client, author, caplog):
    with caplog.at_level(logging.INFO):
        assert client.get(f"/users/{author.pk}/posts/", {"cursor": "garbage"}).status_code == 400
    assert caplog.records, "the 400 is logged"
    assert all(record.exc_info is None for record in caplog.records)


@pytest.mark.parametrize("value, expected", [("JSON", "application/json"), ("Json", "application/json"), ("HTML", "text/html")])
def test_the_format_parameter_ignores_case(client, author, value, expected):
    response = client.get(f"/users/{author.pk}/posts/", {"format": value})
    assert response.status_code == 200 and response["Content-Type"].startswith(expected)


@pytest.mark.parametrize("value", ["xml", "jsonp", "../json"])
def test_an_unknown_format_is_a_400(client, author, value):
    response = client.get(f"/users/{author.pk}/posts/", {"format": value})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "url", ["/users/" + "1" * 300 + "/posts/", "/topics/" + "x" * 300 + "/", "/topics/a%00b/", "/topics/line%0Abreak/"]
)
@pytest.mark.parametrize("as_json", [False, True])
def test_a_key_the_url_makes_invalid_is_a_404(client, url, as_json):
    response = client.get(url, {"format": "json"} if as_json else {})
    assert response.status_code == 404
    if as_json:
        assert response.json() == {"error": "no such timeline"}


DOWN = {
    "default": {"BACKEND": "django_timak.backends.db.DatabaseBackend"},
    "down": {"BACKEND": "tests.backends.UnreachableBackend"},
    "strict": {"BACKEND": "tests.backends.UnreachableBackend", "IGNORE_EXCEPTIONS": False},
    "broken": {"BACKEND": "no.such.Backend"},
    "riak": {
        "BACKEND": "django_timak.backends.riak.RiakBackend",
        "OPTIONS": {"URL": "http://127.0.0.1:9", "TIMEOUT": 0.2, "RETRIES": 0},
    },
}


def topic_view(timeline):
    from tests.views import TopicView

    return TopicView.as_view(timeline=timeline)


@override_settings(TIMAK_TIMELINES=DOWN)
@pytest.mark.parametrize("alias", ["down", "broken", "riak"])
def test_a_store_that_cannot_answer_is_a_503_with_retry_after_in_the_sites_layout(rf, alias):
    response = topic_view(alias)(rf.get("/topics/news/"), topic="news")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    response.render()
    assert response.context_data["unavailable"] is True and response.context_data["object_list"] == []
    assert "unavailable" in response.content.decode()


@override_settings(TIMAK_TIMELINES=DOWN)
def test_a_store_that_cannot_answer_is_a_json_503(rf):
    response = topic_view("down")(rf.get("/topics/news/", {"format": "json"}), topic="news")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert json.loads(response.content) == {"error": "timeline unavailable", "retry_after": 30}


@override_settings(TIMAK_TIMELINES=DOWN)
def test_the_log_says_which_alias_failed_and_why(rf, caplog):
    with caplog.at_level(logging.WARNING, logger="django_timak"):
        topic_view("broken")(rf.get("/topics/news/"), topic="news")
    (record,) = caplog.records
    assert record.levelname == "ERROR" and "'broken'" in record.getMessage() and "no.such.Backend" in record.getMessage()


@override_settings(TIMAK_TIMELINES=DOWN)
def test_ignore_exceptions_false_lets_the_stores_error_propagate(rf):
    from django_timak.exceptions import TimelineBackendError

    with pytest.raises(TimelineBackendError, match="connection refused"):
        topic_view("strict")(rf.get("/topics/news/"), topic="news")


def test_timeline_alias_is_the_old_name_of_timeline():
    from tests.views import TopicView

    assert TopicView(timeline="memory").get_timeline_name() == "memory"
    assert TopicView(timeline="memory", timeline_alias="default").get_timeline_name() == "default"


def test_the_html_pages_link_back_to_newer_pages(client, author):
    first = client.get(f"/users/{author.pk}/posts/")
    assert 'rel="prev"' not in first.content.decode(), "the first page has nothing newer"
    second = client.get(first.context["next_url"])
    third = client.get(second.context["next_url"])
    body = third.content.decode()
    assert f'<a class="timak-previous" rel="prev" href="{html.escape(third.context["previous_url"])}">Newer</a>' in body
    back = client.get(third.context["previous_url"])
    assert list(back.context["object_list"]) == list(second.context["object_list"])
    assert list(client.get(back.context["previous_url"]).context["object_list"]) == list(first.context["object_list"])
