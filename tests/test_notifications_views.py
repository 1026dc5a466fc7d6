"""Reading notification feeds on the web: TimelineView (HTML, JSON), the template tags, their query counts."""

import json

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from django_timak import notifications
from django_timak.views import TimelineView
from tests.models import Like, Post
from tests.social import make_users

pytestmark = [pytest.mark.django_db(transaction=True)]


class NotificationsView(TimelineView):
    track_unread = True

    def get_timeline_key(self):
        return f"user:{self.kwargs['user_id']}:notifications"


@pytest.fixture
def liked():
    """Three fans like the author's post, one likes another post."""
    author, *fans = make_users("author", "ann", "bob", "cat", "dan")
    post = Post.objects.create(author=author, body="liked")
    other = Post.objects.create(author=author, body="other")
    for fan in fans:
        Like.objects.create(user=fan, post=post)
    Like.objects.create(user=fans[0], post=other)
    return author, post, other


def get(author, **query):
    request = RequestFactory().get("/notifications/", query)
    return NotificationsView.as_view()(request, user_id=author.pk)


def test_json_items_carry_the_actors_their_count_the_target_and_the_unread_state(liked):
    author, post, other = liked
    body = json.loads(get(author, format="json").content)
    assert (body["unread"], body["unseen"]) == (2, 2)
    assert [(i["id"], i["actor_count"], i["target"], i["unread"]) for i in body["items"]] == [
        (f"like:{other.pk}", 1, f"tests.post:{other.pk}", True),
        (f"like:{post.pk}", 4, f"tests.post:{post.pk}", True),
    ]
    assert len(body["items"][1]["actors"]) == notifications.SHOWN_ACTORS


def test_opening_the_first_page_marks_it_seen_not_read(liked):
    author, _, _ = liked
    get(author)
    body = json.loads(get(author, format="json").content)
    assert (body["unread"], body["unseen"]) == (2, 0)


def test_html_names_the_newest_actors_and_how_many_others(liked):
    author, post, _ = liked
    with CaptureQueriesContext(connection) as queries:
        html = get(author).render().content.decode()
    assert "dan, cat, bob and 1 other: " in html
    assert html.count("timak-unread") == 2
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    # The feed, the marks, the counts (feed and marks in one query), users and posts once each,
    # and the count of the marks' values that the seen mark's append answers.
    assert len(selects) == 6


def test_the_timeline_tag_gives_notifications_and_the_unread_tag_the_counts(liked):
    author, post, _ = liked
    key = f"user:{author.pk}:notifications"
    source = (
        "{% load timak %}{% timeline key unread=True as items %}{% unread_count key as counts %}"
        "{{ counts.unread }}|{% for item in items %}{{ item.actor_count }}{{ item.unread|yesno:'u,r' }} {% endfor %}"
    )
    assert Template(source).render(Context({"key": key})) == "2|1u 4u "
    notifications.mark_read("default", key, up_to=notifications.page("default", key).newest_score)
    assert Template(source).render(Context({"key": key})) == "0|1r 4r "


def test_the_unread_tag_of_a_key_no_timeline_can_have_is_none():
    assert Template("{% load timak %}{% unread_count key as c %}{{ c }}").render(Context({"key": ""})) == "None"
