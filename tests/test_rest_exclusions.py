"""The DRF face honours a reader's exclusions as TimelineView does: pages, pulled sources, notification feeds, counts.

This module is its own URLconf: views whose sources are ``(key, actor)`` pairs and
whose exclusions come from ``TIMAK_EXCLUDED_ACTORS`` (``blocked_by``) or a hook.
"""

from datetime import timedelta

import pytest
from django.urls import include, path
from django.utils import timezone
from rest_framework import routers, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.test import APIClient

from django_timak import timelines
from django_timak.rest.views import NotificationViewSet, TimelineListAPIView, TimelineViewSet
from tests.models import Like, Post, Remark, User
from tests.social import follow, make_users, ref

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.test_rest_exclusions")]

BLOCKED = {}
START = timezone.now() - timedelta(days=1)


def blocked_by(request, kind):
    """The test site's blocks: whom ``request.user`` leaves out of a ``kind`` page, as instances."""
    return BLOCKED.get((request.user.pk, kind), [])


class RemarkSerializer(serializers.ModelSerializer):
    class Meta:
        model = Remark
        fields = ["id", "body"]


class ExclusionHomeViewSet(TimelineViewSet):
    serializer_class = RemarkSerializer
    permission_classes = [IsAuthenticated]

    def get_timeline_key(self):
        return f"remarks:{self.request.user.pk}:home"

    def get_timeline_sources(self):
        """The pulled authors named by ``?pulled=``, each as a ``(key, author)`` pair."""
        return [(f"remarks:{pk}", f"tests.user:{pk}") for pk in self.request.query_params.getlist("pulled")]


class ExclusionNoticesViewSet(NotificationViewSet):
    permission_classes = [IsAuthenticated]
    notification_verb = "like"

    def get_timeline_key(self):
        return f"user:{self.request.user.pk}:notifications"


class ExclusionProfileAPIView(TimelineListAPIView):
    serializer_class = RemarkSerializer
    timeline_kind = "profile"

    def get_timeline_key(self):
        return f"remarks:{self.kwargs['user_id']}"


class WithoutBob(ExclusionProfileAPIView):
    def get_excluded_actors(self):
        return list(User.objects.filter(username="bob"))


class BrokenHome(ExclusionHomeViewSet):
    def get_excluded_actors(self):
        return 42


class BrokenNotices(ExclusionNoticesViewSet):
    def get_excluded_actors(self):
        return "tests.user:1"


router = routers.SimpleRouter()
router.register("home", ExclusionHomeViewSet, basename="x-home")
router.register("notices", ExclusionNoticesViewSet, basename="x-notices")
router.register("broken-home", BrokenHome, basename="x-broken-home")
router.register("broken-notices", BrokenNotices, basename="x-broken-notices")
urlpatterns = [
    path("api/", include(router.urls)),
    path("api/profiles/<int:user_id>/", ExclusionProfileAPIView.as_view()),
    path("api/hooked/<int:user_id>/", WithoutBob.as_view()),
]


@pytest.fixture(autouse=True)
def blocks(settings):
    settings.TIMAK_EXCLUDED_ACTORS = "tests.test_rest_exclusions.blocked_by"
    BLOCKED.clear()
    yield BLOCKED
    BLOCKED.clear()


@pytest.fixture
def home(django_capture_on_commit_callbacks):
    """A reader following ann and bob, who wrote 15 remarks each, interleaved."""
    reader, ann, bob = make_users("reader", "ann", "bob")
    follow(reader, ann)
    follow(reader, bob)
    written = {ann: [], bob: []}
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(30):
            author = (ann, bob)[i % 2]
            written[author].append(Remark.objects.create(author=author, body=f"{author} {i}", created=START + timedelta(minutes=i)))
    client = APIClient()
    client.force_authenticate(reader)
    return client, reader, ann, bob, written


def walk(client, url, **query):
    """Return every page's results, following ``next`` links to the end."""
    pages, body = [], client.get(url, query).json()
    pages.append(body["results"])
    while body["next"]:
        assert body["next"].startswith("http://testserver/api/")
        body = client.get(body["next"]).json()
        pages.append(body["results"])
    return pages


def test_a_block_takes_the_authors_items_off_the_very_next_home_page_with_full_pages_and_right_next_links(home):
    client, reader, ann, bob, written = home
    assert sum(len(page) for page in walk(client, "/api/home/", page_size=7)) == 30
    BLOCKED[(reader.pk, "home")] = [bob]
    pages = walk(client, "/api/home/", page_size=7)
    assert [len(page) for page in pages] == [7, 7, 1]
    assert [item["id"] for page in pages for item in page] == [r.pk for r in reversed(written[ann])]
    BLOCKED.clear()
    assert client.get("/api/home/", {"page_size": 7}).json()["results"][0]["id"] == written[bob][-1].pk


def test_an_excluded_pulled_source_is_not_read_and_the_others_merge(home, monkeypatch, django_capture_on_commit_callbacks):
    client, reader, ann, bob, written = home
    cat, dan = make_users("cat", "dan")
    with django_capture_on_commit_callbacks(execute=True):
        by_cat = Remark.objects.create(author=cat, body="cat's", created=timezone.now())
        Remark.objects.create(author=dan, body="dan's", created=timezone.now())
    plain = [item["id"] for item in client.get("/api/home/", {"page_size": 4}).json()["results"]]
    backend = timelines["default"].backend
    asked, read_many = [], backend.read_many
    monkeypatch.setattr(backend, "read_many", lambda keys, *a, **kw: asked.extend(keys) or read_many(keys, *a, **kw))
    BLOCKED[(reader.pk, "home")] = [dan]
    body = client.get("/api/home/", {"pulled": [cat.pk, dan.pk], "page_size": 5}).json()
    assert [item["id"] for item in body["results"]] == [by_cat.pk, *plain]
    assert f"remarks:{cat.pk}" in asked and f"remarks:{dan.pk}" not in asked
    assert body["next"].count("pulled=") == 2


def test_the_profile_api_asks_for_the_profile_kind_and_a_views_hook_overrides_the_setting(home):
    client, reader, ann, bob, written = home
    BLOCKED[(reader.pk, "profile")] = [ann]
    assert client.get(f"/api/profiles/{ann.pk}/").json()["results"] == []
    assert len(client.get("/api/home/").json()["results"]) == 20
    assert client.get(f"/api/hooked/{bob.pk}/").json()["results"] == []
    assert len(client.get(f"/api/hooked/{ann.pk}/").json()["results"]) == 15


@pytest.fixture
def notices(django_capture_on_commit_callbacks):
    """ann, bob and cat like the author's post; dan likes another, newer one."""
    author, ann, bob, cat, dan = make_users("author", "ann", "bob", "cat", "dan")
    with django_capture_on_commit_callbacks(execute=True):
        post = Post.objects.create(author=author, body="liked")
        other = Post.objects.create(author=author, body="other")
        for fan in (ann, bob, cat):
            Like.objects.create(user=fan, post=post, created=START + timedelta(minutes=1))
        Like.objects.create(user=dan, post=other, created=START + timedelta(minutes=2))
    client = APIClient()
    client.force_authenticate(author)
    return client, author, post, (ann, bob, cat, dan)


def test_a_block_takes_the_actors_groups_and_memberships_off_the_notification_feed_and_its_counts(notices):
    client, author, post, (ann, bob, cat, dan) = notices
    assert client.get("/api/notices/", {"page_size": 1}).json()["results"][0]["id"] == f"like:{Post.objects.get(body='other').pk}"
    BLOCKED[(author.pk, "notifications")] = [dan, bob]
    body = client.get("/api/notices/", {"page_size": 1}).json()
    (group,) = body["results"]
    assert group["id"] == f"like:{post.pk}" and body["next"] is None
    assert group["actor_count"] == 2 and ref(bob) not in group["actors"]
    assert (body["unread"], body["unseen"]) == (1, 0)
    assert client.post("/api/notices/seen/", {}, format="json").json() == {"unread": 1, "unseen": 0}
    assert client.post("/api/notices/read/", {"up_to": group["score"]}, format="json").json() == {"unread": 0, "unseen": 0}
    BLOCKED.clear()
    assert client.post("/api/notices/seen/", {}, format="json").json() == {"unread": 1, "unseen": 0}


def test_a_hook_answer_that_is_no_set_of_actors_is_a_400_in_drfs_format(home):
    client, *_ = home
    response = client.get("/api/broken-home/")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid excluded actors: exclude_actors must be a set, frozenset, list or tuple of actors "
        "(refs such as 'auth.user:42', or ints), not int"
    }


def test_a_bad_hook_answer_on_the_marking_actions_is_a_400_before_anything_is_marked(notices):
    feed, *_ = notices
    for action in ("seen", "read"):
        answer = feed.post(f"/api/broken-notices/{action}/", {"up_to": 10**12}, format="json")
        assert answer.status_code == 400 and answer.json()["detail"].startswith("Invalid excluded actors: ")
    assert feed.get("/api/broken-notices/").status_code == 400
    body = feed.get("/api/notices/").json()
    assert (body["unread"], body["unseen"]) == (2, 2)


def test_a_setting_answering_junk_is_a_400_too(home, settings):
    client, reader, *_ = home
    BLOCKED[(reader.pk, "home")] = [object()]
    response = client.get("/api/home/")
    assert response.status_code == 400 and response.json()["detail"].startswith("Invalid excluded actors: ")
