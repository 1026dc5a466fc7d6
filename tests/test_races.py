"""Deletes stay deleted when a follow's backfill races them, and re-following brings items back.

Each race is made deterministic by holding the store at the point between the
backfill's read of its source and its write of the target, and deleting then.
"""

import io
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from django_timak import Timeline, timelines
from django_timak.backends.memory import MemoryBackend
from django_timak.entries import Entry, tombstone
from tests.social import ref

# Committed for real, so that the backfill's thread sees what the test wrote.
pytestmark = pytest.mark.django_db(transaction=True)


class Hold:
    """Stop the next ``method`` call on ``key`` in the thread ``run()`` starts, until ``release()``.

    A held ``read`` is also held as ``read_many``: a read-merge-write reads its key
    together with the erasure record.
    """

    def __init__(self, backend, method, key):
        self.reached = threading.Event()
        self._released = threading.Event()
        self._thread = None
        for name in ("read", "read_many") if method == "read" else (method,):
            setattr(backend, name, self._held(getattr(backend, name), key))

    def _held(self, original, key):
        def held(called_key, *args, **kwargs):
            # append_many takes {key: value}, read_many a list of keys: held when it has ``key``.
            mine = called_key == key or (isinstance(called_key, (dict, list, tuple)) and key in called_key)
            if mine and threading.current_thread() is self._thread and not self.reached.is_set():
                self.reached.set()
                assert self._released.wait(10), "the test never released the store"
            return original(called_key, *args, **kwargs)

        return held

    def run(self, function, *args, **kwargs):
        """Start ``function`` in a thread; return once it is held."""
        errors = []

        def target():
            try:
                function(*args, **kwargs)
            except Exception as e:  # reported by release()
                errors.append(e)

        self._errors = errors
        self._thread = threading.Thread(target=target)
        self._thread.start()
        assert self.reached.wait(10), "the held call never happened"

    def release(self):
        self._released.set()
        self._thread.join(10)
        assert not self._errors, self._errors


@pytest.fixture(params=["memory", "siblings", "database"])
def timeline(request):
    if request.param == "database":
        from django_timak.backends.db import DatabaseBackend

        return Timeline(DatabaseBackend(), max_items=10)
    return Timeline(MemoryBackend(allow_mult=request.param == "siblings"), max_items=10)


def live_ids(timeline, key):
    return [e.id for e in timeline.get(key, raw=True)]


@pytest.mark.parametrize("held", [("read", "bob:home"), ("write", "bob:home")])
def test_a_delete_between_the_backfills_read_and_write_stays_deleted(timeline, held):
    for n in range(1, 4):
        timeline.add("alice:posts", f"p{n}", n)
    hold = Hold(timeline.backend, *held)
    hold.run(timeline.copy_items, "alice:posts", "bob:home")
    # bob's follow committed, so the delete's fan-out reaches his home as well as alice's posts.
    timeline.delete("alice:posts", "p2")
    timeline.delete("bob:home", "p2")
    hold.release()
    assert live_ids(timeline, "bob:home") == ["p3", "p1"]
    assert live_ids(timeline, "alice:posts") == ["p3", "p1"]


def test_a_delete_that_reaches_only_the_source_while_the_backfill_is_held_stays_deleted(timeline):
    """The follow committed after the delete chose its keys: only the source learns of the delete."""
    for n in range(1, 4):
        timeline.add("alice:posts", f"p{n}", n)
    hold = Hold(timeline.backend, "read", "bob:home")
    hold.run(timeline.copy_items, "alice:posts", "bob:home")
    timeline.delete("alice:posts", "p2")
    hold.release()
    assert live_ids(timeline, "bob:home") == ["p3", "p1"]


def test_an_edit_between_the_backfills_read_and_write_is_kept(timeline):
    timeline.add("alice:posts", "p1", 1, {"body": "first"})
    hold = Hold(timeline.backend, "read", "bob:home")
    hold.run(timeline.copy_items, "alice:posts", "bob:home")
    timeline.add("alice:posts", "p1", 1, {"body": "edited"})
    timeline.add("bob:home", "p1", 1, {"body": "edited"})
    hold.release()
    assert timeline.get("bob:home") == [{"body": "edited"}]


def test_refollowing_brings_items_back_but_never_a_deleted_one(timeline):
    for n in range(1, 4):
        timeline.add("alice:posts", f"p{n}", n)
    timeline.add("bob:home", "own", 0)
    for round in range(3):
        timeline.copy_items("alice:posts", "bob:home")
        expected = ["p3", "p2", "p1", "own"] if round == 0 else ["p3", "p1", "own"]
        assert live_ids(timeline, "bob:home") == expected
        timeline.remove_items("alice:posts", "bob:home")
        assert live_ids(timeline, "bob:home") == ["own"]
        if round == 0:
            timeline.delete("alice:posts", "p2")
            timeline.delete("bob:home", "p2")


def test_an_item_posted_again_after_an_unfollow_is_not_hidden_by_it(timeline):
    timeline.add("alice:posts", "p1", 1)
    timeline.copy_items("alice:posts", "bob:home")
    timeline.remove_items("alice:posts", "bob:home")
    timeline.add("alice:posts", "p2", 2)
    timeline.copy_items("alice:posts", "bob:home")
    assert live_ids(timeline, "bob:home") == ["p2", "p1"]


def test_a_removed_item_is_not_brought_back_by_a_stale_sibling():
    """On a store that keeps siblings, the unfollow's removal beats a concurrent older write."""
    timeline = Timeline(MemoryBackend(allow_mult=True), max_items=10)
    timeline.add("alice:posts", "p1", 1)
    timeline.copy_items("alice:posts", "bob:home")
    stale = timeline.backend.read("bob:home")
    timeline.remove_items("alice:posts", "bob:home")
    timeline.backend.write("bob:home", stale.values[0], stale.token)  # a concurrent writer's sibling
    assert live_ids(timeline, "bob:home") == []


def rebuild():
    call_command("rebuild_timelines", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture
def posts(django_capture_on_commit_callbacks):
    from tests.models import Post
    from tests.social import make_users

    (alice,) = make_users("alice")
    start = timezone.now() - timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        made = [Post.objects.create(author=alice, body=f"post {n}", created=start + timedelta(minutes=n)) for n in range(3)]
    return f"user:{alice.pk}:posts", made


def test_a_delete_while_a_rebuild_writes_its_batch_stays_deleted(posts):
    key, (first, second, third) = posts
    hold = Hold(timelines["default"].backend, "append_many", key)
    timelines["default"].clear(key)
    hold.run(rebuild)
    second.delete()  # its fan-out runs now, in this thread
    hold.release()
    assert live_ids(timelines["default"], key) == [ref(third), ref(first)]


def test_a_rebuild_deletes_again_a_row_that_vanished_while_its_batch_was_written(posts):
    """The row's delete committed after the rebuild read it, and its own operations lost."""
    key, (first, second, third) = posts
    hold = Hold(timelines["default"].backend, "append_many", key)
    timelines["default"].clear(key)
    hold.run(rebuild)
    type(second).objects.filter(pk=second.pk)._raw_delete(second._state.db)  # no fan-out at all
    hold.release()
    assert live_ids(timelines["default"], key) == [ref(third), ref(first)]


@pytest.mark.parametrize("delete_reaches_home", ["before the refollow", "after the refollow"])
def test_a_delete_stamped_before_an_unfollow_and_applied_after_the_refollow_stays_deleted(timeline, delete_reaches_home):
    """Seen under several processes: a delete's fan-out still under way across an unfollow and a refollow."""
    timeline.add("alice:posts", "p1", 1)
    timeline.copy_items("alice:posts", "bob:home")
    deleted_at = timeline.clock.now()  # the delete is stamped; its writes have not landed yet
    timeline.remove_items("alice:posts", "bob:home")  # the unfollow still sees p1 in alice's posts
    if delete_reaches_home == "before the refollow":
        timeline.replay("bob:home", [tombstone("p1", deleted_at)])
    timeline.copy_items("alice:posts", "bob:home")  # the refollow still sees p1 too
    if delete_reaches_home == "after the refollow":
        timeline.replay("bob:home", [tombstone("p1", deleted_at)])
    timeline.replay("alice:posts", [tombstone("p1", deleted_at)])
    assert live_ids(timeline, "bob:home") == []
    timeline.remove_items("alice:posts", "bob:home")
    timeline.copy_items("alice:posts", "bob:home")
    assert live_ids(timeline, "bob:home") == []


def test_a_refollow_restores_an_item_whose_fanout_arrived_after_the_unfollow(timeline):
    timeline.add("alice:posts", "p1", 1)
    added_at = timeline.get("alice:posts", raw=True)[0].clock
    timeline.remove_items("alice:posts", "bob:home")
    timeline.replay("bob:home", [Entry("p1", 1, added_at)])  # the post's own fan-out, late
    assert live_ids(timeline, "bob:home") == []
    timeline.copy_items("alice:posts", "bob:home")
    assert live_ids(timeline, "bob:home") == ["p1"]


def test_a_like_that_vanished_while_a_rebuild_wrote_its_group_leaves_the_group():
    """A grouped item's id is its group's: the row is deleted as one member, by its reference."""
    from django_timak import notifications
    from tests.models import Like, Post
    from tests.social import make_users

    author, ann, bob = make_users("author", "ann", "bob")
    post = Post.objects.create(author=author, body="liked")
    likes = [Like.objects.create(user=user, post=post) for user in (ann, bob)]
    key = f"user:{author.pk}:notifications"
    hold = Hold(timelines["default"].backend, "append_many", key)
    timelines["default"].clear(key)
    hold.run(call_command, "rebuild_timelines", "tests.Like", stdout=io.StringIO(), stderr=io.StringIO())
    Like.objects.filter(pk=likes[1].pk)._raw_delete(likes[1]._state.db)  # no fan-out at all
    hold.release()
    [item] = notifications.page("default", key, limit=10).items
    assert ([a.username for a in item.actors], item.actor_count) == (["ann"], 1)
