"""Fan-out end to end: saves and deletes reach every key after commit, inline and as tasks."""

import logging
import threading
import time
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from django_timak import fanout, operations, timelines
from django_timak.backends.memory import MemoryBackend
from django_timak.exceptions import TimelineBackendError
from django_timak.models import StoredTimeline
from django_timak.signals import fanout_failed
from tests.models import BACKFILL, Photo, Post
from tests.social import follow, ids, make_users, ref

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clear_memory")]


@pytest.fixture(params=["inline", "task"], autouse=True)
def run_mode(request, settings):
    """Every test here runs with fan-out inline after commit, and through the tasks framework."""
    settings.TIMAK_FANOUT = {"RUN": request.param, "BATCH_SIZE": 2}
    return request.param


@pytest.fixture
def graph():
    """alice is followed by bob and carol; dave is followed by erin."""
    alice, bob, carol, dave, erin = make_users("alice", "bob", "carol", "dave", "erin")
    follow(bob, alice)
    follow(carol, alice)
    follow(erin, dave)
    return alice, bob, carol, dave, erin


def seen_elsewhere(key, alias="default"):
    """Return the ids of ``key`` as another connection (another request's thread) reads them."""
    found = []

    def read():
        try:
            found.extend(ids(key, alias))
        finally:
            connections.close_all()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    return found


@pytest.mark.parametrize("alias", ["default", "memory"])
def test_a_post_reaches_the_profile_and_every_follower_after_commit_and_not_before(graph, alias, run_mode):
    alice, bob, carol, dave, erin = graph
    with transaction.atomic():
        post = Post.objects.create(author=alice, body="hello")
        assert seen_elsewhere(f"user:{alice.pk}:posts", alias) == []
        # Inline, the profile on the save's own database is appended in its transaction, seen at its commit.
        assert ids(f"user:{alice.pk}:posts", alias) == ([ref(post)] if (alias, run_mode) == ("default", "inline") else [])
        assert ids(f"user:{bob.pk}:home") == []
    assert ids(f"user:{alice.pk}:posts", alias) == [ref(post)]
    for reader in (bob, carol):
        assert timelines["default"].get(f"user:{reader.pk}:home") == [{"body": "hello"}]
    assert ids(f"user:{erin.pk}:home") == []


def test_editing_to_unpublished_removes_it_everywhere(graph):
    alice, bob, carol, *_ = graph
    post = Post.objects.create(author=alice, body="oops")
    post.published = False
    post.save()
    for key, alias in [(f"user:{alice.pk}:posts", "default"), (f"user:{alice.pk}:posts", "memory"),
                       (f"user:{bob.pk}:home", "default"), (f"user:{carol.pk}:home", "default")]:
        assert ids(key, alias) == [], key
    post.published = True
    post.save()
    assert ids(f"user:{bob.pk}:home") == [ref(post)]


def test_editing_the_body_updates_the_stored_data(graph):
    alice, bob, *_ = graph
    post = Post.objects.create(author=alice, body="first")
    post.body = "second"
    post.save()
    assert timelines["default"].get(f"user:{bob.pk}:home") == [{"body": "second"}]


def test_moving_a_post_to_another_author_moves_it(graph):
    alice, bob, carol, dave, erin = graph
    post = Post.objects.create(author=alice, body="misattributed")
    post = Post.objects.get(pk=post.pk)  # as a later request would load it
    post.author = dave
    post.save()
    assert ids(f"user:{alice.pk}:posts") == ids(f"user:{alice.pk}:posts", "memory") == []
    assert ids(f"user:{dave.pk}:posts") == ids(f"user:{dave.pk}:posts", "memory") == [ref(post)]
    assert ids(f"user:{bob.pk}:home") == ids(f"user:{carol.pk}:home") == []
    assert ids(f"user:{erin.pk}:home") == [ref(post)]


def test_deleting_a_post_removes_it_everywhere(graph):
    alice, bob, carol, *_ = graph
    kept, gone = Post.objects.create(author=alice, body="kept"), Post.objects.create(author=alice, body="gone")
    gone_ref = ref(gone)
    gone.delete()
    assert ids(f"user:{alice.pk}:posts") == ids(f"user:{alice.pk}:posts", "memory") == [ref(kept)]
    assert ids(f"user:{bob.pk}:home") == ids(f"user:{carol.pk}:home") == [ref(kept)]
    assert gone_ref not in ids(f"user:{bob.pk}:home")


def test_a_queryset_delete_and_a_cascade_remove_every_row(graph):
    alice, bob, *_ = graph
    Post.objects.create(author=alice, body="one")
    Post.objects.create(author=alice, body="two")
    Post.objects.filter(author=alice).delete()
    assert ids(f"user:{alice.pk}:posts") == ids(f"user:{bob.pk}:home") == []
    post = Post.objects.create(author=alice, body="three")
    assert ids(f"user:{bob.pk}:home") == [ref(post)]
    alice.delete()  # cascades to the post and to the follows, in the same transaction
    assert ids(f"user:{bob.pk}:home") == []


def test_a_rollback_leaves_no_trace(graph):
    alice, bob, *_ = graph
    post = Post.objects.create(author=alice, body="kept")
    before = {key: StoredTimeline.objects.get(key=key).version for key in StoredTimeline.objects.values_list("key", flat=True)}
    memory_before = ids(f"user:{alice.pk}:posts", "memory")
    with pytest.raises(RuntimeError), transaction.atomic():
        Post.objects.create(author=alice, body="rolled back")
        post.published = False
        post.save()
        Post.objects.get(pk=post.pk).delete()
        raise RuntimeError("roll back")
    after = dict(StoredTimeline.objects.values_list("key", "version"))
    assert after == before
    assert ids(f"user:{alice.pk}:posts") == ids(f"user:{bob.pk}:home") == [ref(post)]  # no appended value either
    assert ids(f"user:{alice.pk}:posts", "memory") == memory_before == [ref(post)]


def test_saving_an_unchanged_row_twice_changes_nothing(graph):
    alice, *_ = graph
    post = Post.objects.create(author=alice, body="same")
    before = dict(StoredTimeline.objects.values_list("key", "version"))
    post.save()
    Post.objects.get(pk=post.pk).save()
    assert dict(StoredTimeline.objects.values_list("key", "version")) == before


def test_a_follow_backfills_recent_posts_and_an_unfollow_removes_them(graph):
    alice, bob, carol, dave, erin = graph
    start = timezone.now() - timedelta(days=1)
    posts = [Post.objects.create(author=dave, body=f"d{i}", created=start + timedelta(minutes=i)) for i in range(BACKFILL + 3)]
    Post.objects.create(author=dave, body="draft", published=False)
    alices = Post.objects.create(author=alice, body="from alice")
    assert ids(f"user:{bob.pk}:home") == [ref(alices)]
    link = follow(bob, dave)
    newest = [ref(p) for p in reversed(posts)][:BACKFILL]
    assert ids(f"user:{bob.pk}:home") == [ref(alices)] + newest
    later = Post.objects.create(author=dave, body="after the follow")
    assert ids(f"user:{bob.pk}:home")[:2] == [ref(later), ref(alices)]
    link.delete()
    assert ids(f"user:{bob.pk}:home") == [ref(alices)]
    assert ids(f"user:{erin.pk}:home")[0] == ref(later)


def test_a_later_unpublish_wins_over_an_older_add_applied_late(graph, monkeypatch):
    """Per-row order: a retried older operation can never undo a later one."""
    alice, bob, *_ = graph
    applied = []
    monkeypatch.setattr(operations, "apply_operations", lambda b, w, down=None, real=operations.apply_operations: (applied.append(b), real(b, w, down))[1])
    post = Post.objects.create(author=alice, body="retracted")
    post.published = False
    post.save()
    older_adds = [op for batch in applied for op in batch if op.action == "add"]
    assert older_adds and all(op.id == ref(post) for op in older_adds)
    assert {op.action for batch in applied for op in batch} == {"add", "delete"}
    operations.apply_operations(older_adds, 1)  # the add arrives again, late (a retry)
    assert ids(f"user:{alice.pk}:posts") == ids(f"user:{bob.pk}:home") == ids(f"user:{alice.pk}:posts", "memory") == []


def test_rows_of_several_models_share_a_timeline(graph):
    alice, *_ = graph
    now = timezone.now()
    post = Post.objects.create(author=alice, body="text", created=now)
    photo = Photo.objects.create(owner=alice, caption="pic", taken=now + timedelta(seconds=1))
    assert ids(f"user:{alice.pk}:posts") == [ref(photo), ref(post)]


def test_each_key_is_appended_to_once_per_batch(graph, monkeypatch, run_mode):
    alice, *_ = graph
    readers = make_users(*(f"reader{i}" for i in range(5)))
    for reader in readers:
        follow(reader, alice)
    appends, batches = [], []
    monkeypatch.setattr(operations, "write", lambda alias, groups, real=operations.write: (appends.extend(ops[0].key for ops in groups), real(alias, groups))[1])
    monkeypatch.setattr(operations, "apply_operations", lambda b, w, down=None, real=operations.apply_operations: (batches.append(len(b)), real(b, w, down))[1])
    post = Post.objects.create(author=alice, body="to seven readers")
    homes = sorted(f"user:{r.pk}:home" for r in [*graph[1:3], *readers])
    assert sorted(appends) == sorted([f"user:{alice.pk}:posts"] * 2 + homes)
    assert len(batches) == 5  # 9 keys, BATCH_SIZE 2
    assert all(ids(key) == [ref(post)] for key in homes)


class DownBackend(MemoryBackend):
    """A store that is down: every call fails as a networked store's would."""

    def _refuse(self, key, *args):
        raise TimelineBackendError(f"connection refused for {key!r}", key=key)

    read = append = _refuse


def test_a_store_that_is_down_fails_no_save_and_reports_the_keys(graph, settings, caplog):
    alice, bob, *_ = graph
    settings.TIMAK_TIMELINES = {**settings.TIMAK_TIMELINES, "memory": {"BACKEND": "tests.test_fanout.DownBackend"}}
    received = []
    fanout_failed.connect(lambda **kw: received.append(kw), sender=Post, weak=False, dispatch_uid="test-down")
    try:
        with caplog.at_level(logging.ERROR, logger="django_timak"):
            post = Post.objects.create(author=alice, body="while down")
    finally:
        fanout_failed.disconnect(sender=Post, dispatch_uid="test-down")
    assert Post.objects.filter(pk=post.pk).exists()
    assert ids(f"user:{bob.pk}:home") == [ref(post)]  # the other store got its writes
    [signal] = received
    assert signal["sender"] is Post
    assert isinstance(signal["exception"], TimelineBackendError)
    assert [(op.timeline, op.key, op.action, op.id) for op in signal["operations"]] == [
        ("memory", f"user:{alice.pk}:posts", "add", ref(post))
    ]
    assert f"memory:'user:{alice.pk}:posts'" in caplog.text


class SlowNetworkedBackend(MemoryBackend):
    """A networked store that appends one key at a time, recording how many appends overlap."""

    networked = True
    lock = threading.Lock()
    active = peak = 0
    #: Set by the test: the first append of each concurrent call (of home keys) waits
    #: until four are under way, so overlaps never depend on timing.
    overlapping = None
    started = threading.local()

    def append(self, key, value):
        cls = type(self)
        first = key.endswith(":home") and not getattr(cls.started, "done", False)
        with cls.lock:
            cls.active += 1
            cls.peak = max(cls.peak, cls.active)
        if first:
            cls.started.done = True
            cls.overlapping.wait()
        with cls.lock:
            cls.active -= 1
        return super().append(key, value)


def test_a_networked_store_is_appended_to_concurrently_over_a_bounded_pool(graph, settings):
    alice, *_ = graph
    for reader in make_users(*(f"reader{i}" for i in range(9))):
        follow(reader, alice)
    settings.TIMAK_TIMELINES = {**settings.TIMAK_TIMELINES, "default": {"BACKEND": "tests.test_fanout.SlowNetworkedBackend"}}
    settings.TIMAK_FANOUT = {**settings.TIMAK_FANOUT, "BATCH_SIZE": 500, "WORKERS": 4}
    SlowNetworkedBackend.peak, SlowNetworkedBackend.overlapping = 0, threading.Barrier(4, timeout=10)
    post = Post.objects.create(author=alice, body="to eleven readers")
    assert SlowNetworkedBackend.peak == 4
    assert len(timelines["default"].backend.keys()) == 12
    assert ids(f"user:{alice.pk}:posts") == [ref(post)]


class PooledNetworkedBackend(MemoryBackend):
    """A networked store that appends many keys concurrently itself, as Riak does over its pool."""

    networked = True
    calls = []

    def append_many(self, values):
        type(self).calls.append(len(values))
        return super().append_many(values)


def test_a_store_that_appends_concurrently_itself_gets_one_call_so_threads_never_outnumber_its_pool(graph, settings):
    alice, *_ = graph
    for reader in make_users(*(f"reader{i}" for i in range(9))):
        follow(reader, alice)
    settings.TIMAK_TIMELINES = {**settings.TIMAK_TIMELINES, "default": {"BACKEND": "tests.test_fanout.PooledNetworkedBackend"}}
    settings.TIMAK_FANOUT = {**settings.TIMAK_FANOUT, "BATCH_SIZE": 500, "WORKERS": 4}
    PooledNetworkedBackend.calls = []
    post = Post.objects.create(author=alice, body="to eleven readers")
    assert PooledNetworkedBackend.calls == [1, 11]  # the author's own key, then the recipients'
    assert ids(f"user:{alice.pk}:posts") == [ref(post)]


def test_batched_saves_append_to_each_key_once(graph, monkeypatch):
    alice, bob, carol, *_ = graph
    writes = []
    monkeypatch.setattr(operations, "write", lambda alias, groups, real=operations.write: (writes.extend((ops[0].key, len(ops)) for ops in groups), real(alias, groups))[1])
    with fanout.batched():
        start = timezone.now()
        posts = [Post.objects.create(author=alice, body=f"post {i}", created=start + timedelta(seconds=i)) for i in range(5)]
        assert writes == []
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                Post.objects.create(author=alice, body="rolled back")
                raise RuntimeError
    assert sorted(writes) == sorted([(f"user:{alice.pk}:posts", 5)] * 2 + [(f"user:{r.pk}:home", 5) for r in (bob, carol)])
    assert ids(f"user:{bob.pk}:home") == [ref(p) for p in reversed(posts)]
    assert ids(f"user:{alice.pk}:posts", "memory") == [ref(p) for p in reversed(posts)]


def test_the_row_own_keys_are_committed_before_its_recipients_are_resolved(graph, monkeypatch, run_mode):
    """The follow handshake: a backfill that reads the profile once a follow committed finds the post."""
    if run_mode != "inline":
        pytest.skip("workers resolve recipients through recipients_many; test_races_processes runs them")
    alice, bob, *_ = graph
    seen = []
    follower_ids = type(alice).follower_ids

    def resolving(user):
        seen.append(seen_elsewhere(f"user:{alice.pk}:posts"))
        return follower_ids(user)

    monkeypatch.setattr(type(alice), "follower_ids", resolving)
    with transaction.atomic():
        post = Post.objects.create(author=alice, body="handshake")
        assert seen == []  # recipients are not resolved inside the save's transaction
    assert seen == [[ref(post)]]
    assert ids(f"user:{bob.pk}:home") == [ref(post)]


def test_own_keys_that_fail_in_the_transaction_are_applied_after_commit_and_the_save_commits(graph, monkeypatch):
    alice, bob, *_ = graph
    original, calls = fanout.apply_operations, []

    def failing_once(ops, workers, down=None):
        calls.append(len(ops))
        if len(calls) == 1:
            raise TimelineBackendError("the store refused, in the transaction")
        return original(ops, workers, down)

    monkeypatch.setattr(fanout, "apply_operations", failing_once)
    with transaction.atomic():
        post = Post.objects.create(author=alice, body="retried")
    assert Post.objects.filter(pk=post.pk).exists()
    assert ids(f"user:{alice.pk}:posts") == ids(f"user:{bob.pk}:home") == [ref(post)]
