"""The DRF notification feed: groups serialized with their actors and counts, and the seen and read actions."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from django_timak import notifications
from tests.models import Like, Post
from tests.social import make_users

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.rest_urls")]


@pytest.fixture
def liked(django_capture_on_commit_callbacks):
    """Four fans like the author's post, one likes another post."""
    author, *fans = make_users("author", "ann", "bob", "cat", "dan")
    with django_capture_on_commit_callbacks(execute=True):
        post = Post.objects.create(author=author, body="liked")
        other = Post.objects.create(author=author, body="other")
        for fan in fans:
            Like.objects.create(user=fan, post=post)
        Like.objects.create(user=fans[0], post=other)
    return author, post, other


@pytest.fixture
def api(liked):
    client = APIClient()
    client.force_authenticate(liked[0])
    return client


def test_groups_show_their_actors_count_verb_targets_and_unread_state(api, liked):
    author, post, other = liked
    body = api.get("/api/notifications/").json()
    assert (body["unread"], body["unseen"]) == (2, 2) and body["next"] is None
    newest, older = body["results"]
    assert newest["id"] == f"like:{other.pk}" and newest["targets"] == [f"tests.post:{other.pk}"]
    assert (older["actor_count"], older["others"], len(older["actors"])) == (4, 1, notifications.SHOWN_ACTORS)
    assert older["verb"] == "like" and older["unread"] is True and older["unseen"] is True
    assert all(actor.startswith("tests.user:") for actor in older["actors"])


def test_opening_the_first_page_marks_it_seen_not_read(api):
    api.get("/api/notifications/")
    body = api.get("/api/notifications/").json()
    assert (body["unread"], body["unseen"]) == (2, 0)


def test_seen_marks_up_to_the_newest_item_and_answers_the_counts(api):
    assert api.post("/api/notifications/seen/", {}, format="json").json() == {"unread": 2, "unseen": 0}


def test_read_marks_the_items_given_by_id_and_score(api, liked):
    group = api.get("/api/notifications/").json()["results"][1]
    answer = api.post("/api/notifications/read/", {"items": [{"id": group["id"], "score": group["score"]}]}, format="json")
    assert answer.status_code == 200 and answer.json()["unread"] == 1
    flags = {item["id"]: item["unread"] for item in api.get("/api/notifications/").json()["results"]}
    assert flags[group["id"]] is False


def test_read_up_to_marks_everything_up_to_a_score(api):
    newest = api.get("/api/notifications/").json()["results"][0]
    assert api.post("/api/notifications/read/", {"up_to": newest["score"]}, format="json").json()["unread"] == 0


def test_read_with_nothing_to_mark_is_a_400_in_drfs_format(api):
    response = api.post("/api/notifications/read/", {}, format="json")
    assert response.status_code == 400 and response.json() == {"non_field_errors": ["give items, up_to or both"]}
    bad = api.post("/api/notifications/read/", {"items": [{"id": "x"}]}, format="json")
    assert bad.status_code == 400 and bad.json() == {"items": {"0": {"score": ["This field is required."]}}}


def test_marking_on_a_store_that_is_down_is_a_503_with_retry_after(api):
    with override_settings(TIMAK_TIMELINES={"default": {"BACKEND": "tests.backends.UnreachableBackend"}}):
        response = api.post("/api/notifications/seen/", {"up_to": 5}, format="json")
    assert response.status_code == 503 and response["Retry-After"] == "30"


def test_the_feed_asks_for_a_signed_in_user():
    assert APIClient().get("/api/notifications/").status_code == 403
