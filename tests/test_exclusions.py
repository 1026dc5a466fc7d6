"""A reader's exclusions at read time: pages, merged pages and notification feeds leave out excluded actors.

Nothing is written: the same stored value reads differently per reader, a page
still holds ``limit`` items when the timeline does, and cursors walk the rest.
"""

import pytest

from django_timak import Timeline, notifications
from django_timak.backends.memory import MemoryBackend
from django_timak.entries import Entry
from django_timak.exceptions import InvalidTimelineInput
from tests.models import Like, Post
from tests.social import make_users
from tests.test_append import DATABASES, build


@pytest.fixture(params=["memory", "siblings", *DATABASES])
def timeline(request):
    return Timeline(build(request.param), max_items=200)


def by(actor_of, count):
    """Return ``count`` entries, newest first by score, each by the actor ``actor_of(i)`` names."""
    return [Entry(i, i, 1, None, False, actor_of(i)) for i in range(count)]


def walk(timeline, key, limit, **options):
    """Return every page's items, following cursors to the end."""
    pages, cursor = [], None
    while True:
        page = timeline.page(key, limit, cursor, **options)
        pages.append(page.items)
        if not page.has_next:
            return pages
        cursor = page.next_cursor


def test_a_page_leaves_out_excluded_actors_and_still_holds_limit_items(timeline):
    timeline.replay("k", by(lambda i: f"u:{i % 10}", 100))
    page = timeline.page("k", 20, exclude_actors={"u:9", "u:8", "nobody"})
    assert len(page.items) == 20 and all(i % 10 not in (8, 9) for i in page.items)
    assert page.items == [i for i in range(99, -1, -1) if i % 10 < 8][:20]


def test_cursors_walk_every_item_not_excluded_exactly_once(timeline):
    timeline.replay("k", by(lambda i: f"u:{i % 3}", 50))
    pages = walk(timeline, "k", 7, exclude_actors=["u:0"])
    assert [i for page in pages for i in page] == [i for i in range(49, -1, -1) if i % 3]
    assert all(len(page) == 7 for page in pages[:-1])


def test_items_with_no_actor_and_int_actors_follow_the_same_rule(timeline):
    timeline.replay("k", by(lambda i: None if i % 2 else i, 10))
    assert timeline.page("k", exclude_actors=(4, 6)).items == [9, 8, 7, 5, 3, 2, 1, 0]


def test_a_source_of_an_excluded_actor_is_not_read_and_the_others_merge():
    backend = MemoryBackend()
    timeline = Timeline(backend, max_items=100)
    timeline.replay("home", by(lambda i: "u:home", 5))
    timeline.replay("pulled:a", [Entry(f"a{i}", 10 + i, 1, None, False, "u:a") for i in range(3)])
    timeline.replay("pulled:b", [Entry(f"b{i}", 20 + i, 1, None, False, "u:b") for i in range(3)])
    asked = []
    read_many = backend.read_many
    backend.read_many = lambda keys: asked.append(list(keys)) or read_many(keys)
    sources = [("pulled:a", "u:a"), ("pulled:b", "u:b")]
    page = timeline.page("home", 4, sources=sources, exclude_actors={"u:b"})
    assert asked == [["home", "pulled:a", "timak:erased"]], "one read_many, with the erasure record"
    assert page.items == ["a2", "a1", "a0", 4] and page.keys == ("home", "pulled:a")
    rest = timeline.page("home", 4, page.next_cursor, sources=sources, exclude_actors={"u:b"})
    assert rest.items == [3, 2, 1, 0]


def test_items_of_excluded_actors_inside_a_merged_page_are_left_out():
    timeline = Timeline(MemoryBackend(), max_items=100)
    timeline.replay("home", by(lambda i: f"u:{i % 2}", 6))
    timeline.replay("src", [Entry("s", 100, 1, None, False, "u:1")])
    assert timeline.page("home", sources=["src"], exclude_actors={"u:1"}).items == [4, 2, 0]


@pytest.mark.parametrize(
    "bad, named",
    [("u:1", "str"), ({"u:1": True}, "dict"), ({None}, "None"), ([1.5], "float"), ([True], "bool"), (None, "NoneType")],
)
def test_exclude_actors_that_is_not_a_collection_of_refs_or_ints_is_refused_with_a_sentence(bad, named):
    timeline = Timeline(MemoryBackend())
    with pytest.raises(InvalidTimelineInput, match=named):
        timeline.page("k", exclude_actors=bad)


def test_a_model_instance_is_not_an_actor(db):
    (user,) = make_users("someone")
    with pytest.raises(InvalidTimelineInput, match="an actor is a ref"):
        Timeline(MemoryBackend()).page("k", exclude_actors=[user])


@pytest.mark.django_db(transaction=True)
def test_notification_groups_leave_out_excluded_members_and_groups_of_only_excluded_ones(clear_memory):
    author, ann, bob = make_users("author", "ann", "bob")
    first, second = Post.objects.create(author=author, body="1"), Post.objects.create(author=author, body="2")
    for user in (ann, bob):
        Like.objects.create(user=user, post=first)
    Like.objects.create(user=bob, post=second)
    key = f"user:{author.pk}:notifications"
    blocked = {f"tests.user:{bob.pk}"}
    page = notifications.page("default", key, exclude_actors=blocked)
    assert [(item.id, [a.username for a in item.actors], item.actor_count) for item in page.items] == [
        (f"like:{first.pk}", ["ann"], 1)
    ]
    assert notifications.unread_count("default", key).unread == 2
    assert notifications.unread_count("default", key, exclude_actors=blocked).unread == 1
    with pytest.raises(InvalidTimelineInput):
        notifications.unread_count("default", key, exclude_actors="tests.user:1")
