"""Hybrid fan-out: rows a pull rule picks stay in their author's key and readers merge it in.

``Post.home_timeline`` is given a pull rule for these tests: authors followed by more
than ``THRESHOLD`` users are pulled. Inline, as tasks and through the outbox.
"""

import io
import json

import pytest
from django.core import checks
from django.core.management import call_command
from django.test import RequestFactory

from django_timak import timelines
from django_timak.checks import check_declarations
from django_timak.pull import PullAbove
from django_timak.templatetags.timak import timeline as timeline_tag
from django_timak.views import TimelineView
from tests.models import Follow, Post
from tests.social import follow, ids, make_users, ref

pytestmark = [pytest.mark.django_db(transaction=True)]

THRESHOLD = {"value": 1}
RUN_MODES = {
    "inline": {"TIMAK_FANOUT": {"RUN": "inline"}},
    "task": {"TIMAK_FANOUT": {"RUN": "task"}},
    "outbox": {"TIMAK_FANOUT": {"RUN": "inline"}, "TIMAK_OUTBOX": {"ENABLED": True}},
}


def follower_count(post):
    return Follow.objects.filter(followee_id=post.author_id).count()


def is_pulled(user):
    return Follow.objects.filter(followee=user).count() > THRESHOLD["value"]


def sources(reader):
    """Return the keys a reader's home page pulls: the pulled authors they follow, now."""
    followed = Follow.objects.filter(follower=reader).select_related("followee")
    return [f"user:{f.followee_id}:posts" for f in followed if is_pulled(f.followee)]


def home(reader):
    """Return the ids of a reader's home page, its sources merged in."""
    page = timelines["default"].page(f"user:{reader.pk}:home", limit=100, sources=sources(reader))
    return [entry.id for entry in page.entries]


@pytest.fixture(params=list(RUN_MODES), autouse=True)
def run_mode(request, settings):
    for name, value in RUN_MODES[request.param].items():
        setattr(settings, name, value)
    return request.param


@pytest.fixture(autouse=True)
def pull_rule(monkeypatch):
    """Pull the posts of authors followed by more than THRESHOLD users; count the rows asked recipients for."""
    field = Post.home_timeline
    asked = []
    recipients_many = field.recipients_many

    def counted(posts):
        asked.extend(posts)
        return recipients_many(posts)

    monkeypatch.setattr(field, "pull", PullAbove(lambda: THRESHOLD["value"], follower_count))
    monkeypatch.setattr(field, "pull_from", "user:{author_id}:posts")
    monkeypatch.setattr(field, "recipients", lambda post: counted([post]).get(post.pk, ()))
    monkeypatch.setattr(field, "recipients_many", counted)
    monkeypatch.setitem(THRESHOLD, "value", 1)
    return asked


@pytest.fixture
def graph():
    """alice is followed by bob, carol and dave (pulled over 1 follower); erin by bob only."""
    alice, bob, carol, dave, erin = make_users("alice", "bob", "carol", "dave", "erin")
    for reader in (bob, carol, dave):
        follow(reader, alice)
    follow(bob, erin)
    return alice, bob, carol, dave, erin


def test_a_pulled_post_is_written_to_its_authors_key_only_and_tops_every_followers_page(graph, pull_rule):
    alice, bob, carol, dave, erin = graph
    older = Post.objects.create(author=erin, body="pushed")
    pull_rule.clear()
    post = Post.objects.create(author=alice, body="pulled")
    assert pull_rule == []  # nobody asked for alice's followers
    assert ids(f"user:{alice.pk}:posts") == [ref(post)]
    for reader in (bob, carol, dave):
        assert ref(post) not in ids(f"user:{reader.pk}:home")
        assert home(reader)[0] == ref(post)
    assert home(bob) == [ref(post), ref(older)]


def test_an_author_crossing_the_threshold_both_ways_loses_nothing_and_shows_nothing_twice(graph, monkeypatch):
    alice, bob, carol, dave, erin = graph
    monkeypatch.setitem(THRESHOLD, "value", 10)
    pushed = [Post.objects.create(author=alice, body=f"pushed {n}") for n in range(2)]
    assert ids(f"user:{bob.pk}:home")[:2] == [ref(p) for p in reversed(pushed)]
    monkeypatch.setitem(THRESHOLD, "value", 1)  # alice is pulled from now on
    pulled = Post.objects.create(author=alice, body="pulled")
    assert ref(pulled) not in ids(f"user:{bob.pk}:home")
    assert home(bob) == [ref(pulled), ref(pushed[1]), ref(pushed[0])]
    deleted = ref(pushed[0])
    pushed[0].delete()  # recorded in alice's key only, and hides the copy bob's key holds
    assert deleted in ids(f"user:{bob.pk}:home")
    assert home(bob) == [ref(pulled), ref(pushed[1])]
    # Back under the threshold: carol's unfollow leaves two followers, whose homes catch up.
    monkeypatch.setitem(THRESHOLD, "value", 2)
    Follow.objects.filter(follower=carol, followee=alice).delete()
    timelines["default"].catch_up(f"user:{alice.pk}:posts", [f"user:{r.pk}:home" for r in (bob, dave)])
    again = Post.objects.create(author=alice, body="pushed again")
    for reader in (bob, dave):
        assert sources(reader) == []
        assert home(reader)[:3] == [ref(again), ref(pulled), ref(pushed[1])]
        assert deleted not in home(reader)
    assert ref(again) not in home(carol)


def test_following_a_pulled_author_shows_their_posts_and_unfollowing_removes_them_at_once(graph):
    alice, bob, carol, dave, erin = graph
    post = Post.objects.create(author=alice, body="pulled")
    newcomer, = make_users("frank")
    assert home(newcomer) == []
    follow(newcomer, alice)
    assert home(newcomer) == [ref(post)]
    Follow.objects.filter(follower=newcomer, followee=alice).delete()
    assert home(newcomer) == []


def test_an_edit_of_a_pulled_post_shows_its_newest_version_in_every_page(graph):
    alice, bob, *_ = graph
    post = Post.objects.create(author=alice, body="first")
    post.body = "edited"
    post.save()
    page = timelines["default"].page(f"user:{bob.pk}:home", sources=sources(bob))
    assert [entry.id for entry in page.entries] == [ref(post)]
    assert ids(f"user:{bob.pk}:home") == []


def test_rebuild_timelines_does_not_push_pulled_authors_rows(graph):
    alice, bob, carol, dave, erin = graph
    pulled = Post.objects.create(author=alice, body="pulled")
    pushed = Post.objects.create(author=erin, body="pushed")
    call_command("rebuild_timelines", "tests.Post", "--clear", stdout=io.StringIO())
    assert ids(f"user:{bob.pk}:home") == [ref(pushed)]
    assert ids(f"user:{alice.pk}:posts") == [ref(pulled)]
    assert home(bob) == [ref(pushed), ref(pulled)]


def test_a_pull_rule_that_is_not_callable_and_a_source_no_field_fills_are_check_errors(monkeypatch):
    field = Post.home_timeline
    monkeypatch.setattr(field, "pull", 100)
    monkeypatch.setattr(field, "pull_from", "user:{author_id}:feed")
    found = [e for e in check_declarations() if e.id in ("django_timak.E028", "django_timak.E029")]
    assert found == [
        checks.Error(
            "tests.Post.home_timeline: pull=100 is not callable.",
            hint="Pass pull=lambda row: ... returning True for rows readers pull, or "
            "django_timak.pull.PullAbove(threshold, count).",
            obj=Post,
            id="django_timak.E029",
        ),
        checks.Error(
            "tests.Post.home_timeline: pull_from='user:{author_id}:feed' is not the key of another TimelineField of "
            "tests.Post on timeline 'default': pulled rows would be stored nowhere.",
            hint="Name the key template of the field that keeps the rows readers pull from, one of: "
            "'user:{author_id}:posts'.",
            obj=Post,
            id="django_timak.E028",
        ),
    ]


def test_a_declared_pull_rule_passes_the_checks():
    assert [e for e in check_declarations() if e.id in ("django_timak.E028", "django_timak.E029")] == []


class HomeWithSources(TimelineView):
    """A home page that merges the pulled authors the reader follows."""

    def get_timeline_key(self):
        return f"user:{self.request.user.pk}:home"

    def get_timeline_sources(self):
        return sources(self.request.user)


def test_the_view_and_the_tag_merge_the_sources_with_one_query_per_model(graph, django_assert_num_queries):
    alice, bob, carol, dave, erin = graph
    pushed = Post.objects.create(author=erin, body="pushed")
    pulled = Post.objects.create(author=alice, body="pulled")
    request = RequestFactory().get("/", {"format": "json"})
    request.user = bob
    answer = json.loads(HomeWithSources.as_view()(request).content)
    assert [item["id"] for item in answer["items"]] == [ref(pulled), ref(pushed)]
    request = RequestFactory().get("/")
    request.user = bob
    response = HomeWithSources.as_view(template_name="django_timak/timeline.html")(request)
    assert [post.pk for post in response.context_data["object_list"]] == [pulled.pk, pushed.pk]
    assert response.context_data["timeline_keys"] == (f"user:{bob.pk}:home", f"user:{alice.pk}:posts")
    keys = sources(bob)
    with django_assert_num_queries(2):  # the timelines in one read, the posts in one query
        items = timeline_tag(f"user:{bob.pk}:home", sources=keys)
    assert items == [pulled, pushed]
