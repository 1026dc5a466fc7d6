"""TimelineView: walking a timeline to the end in HTML and JSON, and refusing bad cursors."""

import html
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
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
        assert set(body) == {"items", "next_cursor"}
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
