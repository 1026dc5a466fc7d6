"""Activity Streams 2.0: timeline pages as OrderedCollectionPages from TimelineView and the DRF views, valid JSON-LD."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from django_timak import activitystreams
from django_timak.entries import Entry
from django_timak.views import TimelineView
from tests.jsonld import AS, expand, offline_loader, undefined_terms
from tests.models import Like, Post
from tests.social import make_users

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class ProfileView(TimelineView):
    paginate_by = 4

    def get_timeline_key(self):
        return f"user:{self.kwargs['user_id']}:posts"


@pytest.fixture
def author(django_capture_on_commit_callbacks):
    (alice,) = make_users("alice")
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(6):
            Post.objects.create(author=alice, body=f"post {i}", created=START + timedelta(minutes=i // 2))
    return alice


def doc(response) -> dict:
    return json.loads(response.content)


def as2(author, **headers):
    query = {} if headers else {"format": "as2"}
    request = RequestFactory().get(f"/users/{author.pk}/posts/", query, headers=headers)
    return ProfileView.as_view()(request, user_id=author.pk)


def test_format_as2_answers_an_ordered_collection_page_of_create_activities(author):
    response = as2(author)
    assert response.status_code == 200 and response["Content-Type"] == "application/activity+json"
    page = doc(response)
    assert page["@context"] == "https://www.w3.org/ns/activitystreams" and page["type"] == "OrderedCollectionPage"
    newest = Post.objects.order_by("-created", "-pk").first()
    first = page["orderedItems"][0]
    assert set(first) == {"id", "type", "actor", "object", "published"} - {"actor"}  # Post names no actor
    assert first["type"] == "Create" and first["object"] == {"id": f"urn:timak:tests.post:{newest.pk}", "type": "Note"}
    assert first["published"] == "2026-01-02T03:06:05.000Z"
    assert len(page["orderedItems"]) == 4 and page["next"].startswith("http://testserver/users/")
    assert page["partOf"] == f"http://testserver/users/{author.pk}/posts/?format=as2"


def test_accept_activity_json_chooses_as2_and_next_links_walk_every_item(author):
    response = as2(author, accept="application/activity+json")
    assert response["Content-Type"] == "application/activity+json" and response["Vary"] == "Accept"
    page = doc(response)
    again = RequestFactory().get(page["next"], headers={"accept": "application/activity+json"})
    second = doc(ProfileView.as_view()(again, user_id=author.pk))
    assert "next" not in second
    objects = [a["object"]["id"] for a in page["orderedItems"] + second["orderedItems"]]
    assert objects == [f"urn:timak:tests.post:{p.pk}" for p in Post.objects.order_by("-created", "-pk")]


def test_the_page_is_json_ld_every_term_of_which_the_as2_context_defines(author):
    expanded = expand(doc(as2(author)))
    assert undefined_terms(expanded) == set()
    (page,) = expanded
    assert page["@type"] == [AS + "OrderedCollectionPage"]
    activities = page[AS + "items"][0]["@list"]
    assert len(activities) == 4 and activities[0]["@type"] == [AS + "Create"]
    assert activities[0][AS + "published"][0]["@type"] == "http://www.w3.org/2001/XMLSchema#dateTime"


def test_a_term_outside_the_as2_context_is_caught_by_the_check():
    document = {"@context": activitystreams.CONTEXT, "type": "Note", "colour": "red"}
    assert undefined_terms(expand(document)) == {"_:colour"}


def test_the_loader_never_fetches_another_document():
    from pyld import jsonld

    with pytest.raises(jsonld.JsonLdError):
        offline_loader("https://example.com/context.jsonld")


def test_the_actor_comes_from_the_entry_else_from_the_foreign_key_the_model_names(author, monkeypatch):
    post = Post.objects.first()
    entry = Entry(f"tests.post:{post.pk}", 0, 1, None, False, "tests.user:7")
    assert activitystreams.activity(entry, post)["actor"] == "urn:timak:tests.user:7"
    monkeypatch.setattr(Post, "activity_actor", "author", raising=False)
    page = doc(as2(author))
    assert {a["actor"] for a in page["orderedItems"]} == {f"urn:timak:tests.user:{author.pk}"}
    assert undefined_terms(expand(page)) == set()


def test_a_models_hook_replaces_the_defaults(author, monkeypatch):
    monkeypatch.setattr(Post, "activity_type", "Announce", raising=False)
    monkeypatch.setattr(Post, "as_activity", lambda self, entry: {"summary": self.body}, raising=False)
    page = doc(as2(author))
    assert page["orderedItems"][0]["type"] == "Announce" and page["orderedItems"][0]["summary"].startswith("post ")
    assert undefined_terms(expand(page)) == set()


@pytest.fixture
def liked(django_capture_on_commit_callbacks):
    author, *fans = make_users("author", "ann", "bob", "cat", "dan")
    with django_capture_on_commit_callbacks(execute=True):
        post = Post.objects.create(author=author, body="liked")
        for fan in fans:
            Like.objects.create(user=fan, post=post)
    return author, post


@pytest.mark.urls("tests.rest_urls")
def test_the_drf_notification_feed_in_as2_gives_groups_their_actor_counts(liked):
    author, post = liked
    api = APIClient()
    api.force_authenticate(author)
    response = api.get("/api/notifications/", headers={"accept": "application/activity+json"})
    assert response.status_code == 200 and response["Content-Type"] == "application/activity+json"
    (group,) = response.json()["orderedItems"]
    assert group["type"] == "Like"
    assert group["actor"]["type"] == "Collection" and group["actor"]["totalItems"] == 4
    assert len(group["actor"]["items"]) == 3 and group["object"] == f"urn:timak:tests.post:{post.pk}"
    assert undefined_terms(expand(response.json())) == set()


@pytest.mark.urls("tests.rest_urls")
def test_the_drf_view_answers_format_as2_with_next_links_of_its_own(django_capture_on_commit_callbacks):
    (alice,) = make_users("alice")
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(3):
            Post.objects.create(author=alice, body=f"post {i}", created=START + timedelta(minutes=i))
    page = APIClient().get(f"/api/users/{alice.pk}/posts/", {"format": "as2", "page_size": 2}).json()
    assert page["type"] == "OrderedCollectionPage" and len(page["orderedItems"]) == 2
    assert "cursor=" in page["next"] and "format=as2" in page["next"]
    assert page["partOf"] == f"http://testserver/api/users/{alice.pk}/posts/?format=as2&page_size=2"
    rest = APIClient().get(page["next"]).json()
    assert len(rest["orderedItems"]) == 1 and "next" not in rest


def test_a_type_outside_the_as2_vocabulary_is_caught_by_the_check():
    document = {"@context": activitystreams.CONTEXT, "type": "like", "name": "x"}
    assert undefined_terms(expand(document)) == {"_:like"}
