"""The read-only admin of timeline keys: the database store's rows, and a lookup on any alias (Riak too)."""

import pytest
from django.contrib import admin
from django.test import override_settings
from django.urls import path

from django_timak import Timeline, timelines
from django_timak.backends.riak import RiakBackend
from django_timak.models import StoredTimeline
from tests.settings import INSTALLED_APPS, MIDDLEWARE, TEMPLATES



def __getattr__(name):
    """Build the URLconf on first use, under WITH_ADMIN: admin.site needs the admin app installed."""
    if name == "urlpatterns":
        import django_timak.admin  # noqa: F401  (registers StoredTimeline on admin.site)

        return [path("admin/", admin.site.urls)]
    raise AttributeError(name)


WITH_ADMIN = override_settings(
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[*INSTALLED_APPS, "django.contrib.admin", "django.contrib.messages"],
    MIDDLEWARE=[*MIDDLEWARE, "django.contrib.messages.middleware.MessageMiddleware"],
    TEMPLATES=[{**TEMPLATES[0], "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]}}],
)

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def superuser(client, django_user_model):
    with WITH_ADMIN:
        user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
        client.force_login(user)
        yield client


@pytest.fixture
def feed():
    """A database key with two items, a tombstone and an unmerged append."""
    timeline = timelines["default"]
    timeline.add_many("user:1:home", [("post:1", 1, {"body": "one"}), ("post:2", 2, None), ("post:3", 3, None)])
    timeline.delete("user:1:home", "post:3")
    timeline.append_changes({"user:1:home": [timeline.add_many("scratch", [("post:4", 4, None)])[0]]})
    yield "user:1:home"
    timeline.clear("user:1:home")
    timeline.clear("scratch")


def test_the_changelist_lists_keys_with_their_size_and_unmerged_appends(superuser, feed):
    page = superuser.get("/admin/django_timak/storedtimeline/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "user:1:home" in html and "Unmerged appends" in html
    assert "Look up a key on any alias" in html


def test_the_detail_page_decodes_items_tombstones_and_each_unmerged_value(superuser, feed):
    html = superuser.get("/admin/django_timak/storedtimeline/user:1:home/change/").content.decode()
    assert "Items (3 shown" in html and "Tombstones (1)" in html
    assert "Values as stored, unmerged (2)" in html
    assert html.count('class="timak-item"') == 3 and html.count('class="timak-tombstone"') == 1
    assert "{&#x27;body&#x27;: &#x27;one&#x27;}" in html


def test_nothing_can_be_added_changed_or_deleted(superuser, feed):
    assert superuser.get("/admin/django_timak/storedtimeline/add/").status_code == 403
    assert superuser.post("/admin/django_timak/storedtimeline/user:1:home/delete/").status_code == 403
    superuser.post("/admin/django_timak/storedtimeline/user:1:home/change/", {"key": "x", "version": 9})
    assert StoredTimeline.objects.get(key="user:1:home").key == "user:1:home"
    html = superuser.get("/admin/django_timak/storedtimeline/user:1:home/change/").content.decode()
    assert 'name="_save"' not in html


def test_lookup_reads_a_key_of_the_memory_alias(superuser):
    timelines["memory"].add("k", 1, 1)
    html = superuser.get("/admin/django_timak/storedtimeline/lookup/", {"alias": "memory", "key": "k"}).content.decode()
    assert "Items (1 shown of MAX_ITEMS=100" in html
    timelines["memory"].clear("k")


def test_lookup_refuses_a_bad_key_with_a_sentence(superuser):
    page = superuser.get("/admin/django_timak/storedtimeline/lookup/", {"alias": "memory", "key": " "})
    assert page.status_code == 200 and "errorlist" in page.content.decode()


def test_lookup_on_riak_shows_each_sibling_unmerged(superuser, riak_url, riak_bucket):
    riak = {"BACKEND": "django_timak.backends.riak.RiakBackend", "OPTIONS": {"URL": riak_url, "BUCKET": riak_bucket}}
    with override_settings(TIMAK_TIMELINES={**__import__("django.conf").conf.settings.TIMAK_TIMELINES, "riak": riak}):
        backend = RiakBackend(riak_url, bucket=riak_bucket)
        for n in (1, 2):
            Timeline(backend).append_changes({"k": Timeline(backend).add_many(f"scratch{n}", [(n, n, None)])})
        html = superuser.get("/admin/django_timak/storedtimeline/lookup/", {"alias": "riak", "key": "k"}).content.decode()
        assert "Values as stored, unmerged (2)" in html and "Items (2 shown" in html
        assert len(backend.read("k").values) == 2  # the lookup compacted nothing


def test_a_staff_member_without_view_permission_cannot_look(client, django_user_model):
    with WITH_ADMIN:
        client.force_login(django_user_model.objects.create_user("staff", is_staff=True))
        assert client.get("/admin/django_timak/storedtimeline/lookup/").status_code == 403
        assert client.get("/admin/django_timak/storedtimeline/").status_code == 403
