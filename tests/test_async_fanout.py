"""Fan-out from async code: ``async with abatched()`` applies what the block's saves imply, at its end, on every store."""

import asyncio
import re
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import override_settings

from django_timak import timelines
from django_timak.async_fanout import abatched
from django_timak.models import PendingOperation
from django_timak.signals import fanout_failed
from tests.models import Post
from tests.social import follow, ids, make_users, ref

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clear_memory")]
MEMORY = {"BACKEND": "django_timak.backends.memory.MemoryBackend", "MAX_ITEMS": 100}


@pytest.fixture(params=["database", "memory", "riak"])
def store(request):
    """The "default" timeline on each store; Riak's changes inline (its default is the outbox)."""
    if request.param == "database":
        yield request.param
        return
    config = MEMORY
    if request.param == "riak":
        config = {
            "BACKEND": "django_timak.backends.riak.RiakBackend",
            "OPTIONS": {"URL": request.getfixturevalue("riak_url"), "BUCKET": request.getfixturevalue("riak_bucket")},
        }
    with override_settings(TIMAK_TIMELINES={"default": config, "memory": MEMORY}, TIMAK_OUTBOX={"ENABLED": False}):
        yield request.param


@pytest.fixture
def people():
    alice, bob, carol = make_users("alice", "bob", "carol")
    follow(bob, alice)
    follow(carol, alice)
    return alice, bob, carol


def keys_of(alice, bob, carol):
    return f"user:{alice.pk}:posts", f"user:{bob.pk}:home", f"user:{carol.pk}:home"


read = sync_to_async(ids)


def test_saves_edits_and_deletes_in_the_block_are_applied_at_its_end(store, people):
    alice, bob, carol = people
    profile, *homes = keys_of(alice, bob, carol)

    async def scenario():
        async with abatched():
            first = await Post.objects.acreate(author=alice, body="first")
            second = await Post.objects.acreate(author=alice, body="second")
            gone = await Post.objects.acreate(author=alice, body="gone")
            second.published = False
            await second.asave()
            await gone.adelete()
            inside = await read(profile)
        return first, inside

    first, inside = async_to_sync(scenario)()
    assert inside == []
    assert ids(profile) == ids(profile, "memory") == [ref(first)]
    for home in homes:
        assert timelines["default"].get(home) == [{"body": "first"}]


def test_a_save_outside_the_block_fans_out_at_once_as_before(store, people):
    alice, bob, carol = people

    async def scenario():
        post = await Post.objects.acreate(author=alice, body="now")
        return post, await read(f"user:{alice.pk}:posts")

    post, seen = async_to_sync(scenario)()
    assert seen == [ref(post)]


def test_another_coroutines_saves_are_not_held_by_a_block(people):
    alice, bob, carol = people
    profile = f"user:{alice.pk}:posts"

    async def scenario():
        saved = asyncio.Event()

        async def batching():
            async with abatched():
                await Post.objects.acreate(author=alice, body="batched")
                await saved.wait()
                return await read(profile)

        async def alone():
            post = await Post.objects.acreate(author=bob, body="alone")
            saved.set()
            return post

        return await asyncio.gather(batching(), alone())

    seen_inside, _ = async_to_sync(scenario)()
    assert seen_inside == []
    assert len(ids(profile)) == 1


@pytest.mark.parametrize("mode", ["task", "outbox"])
def test_tasks_and_the_outbox_apply_the_blocks_changes_at_its_end(mode, people, settings):
    alice, bob, carol = people
    profile, *homes = keys_of(alice, bob, carol)
    settings.TIMAK_FANOUT = {"RUN": "task" if mode == "task" else "inline"}
    settings.TIMAK_OUTBOX = {"ENABLED": mode == "outbox"}

    async def scenario():
        async with abatched():
            post = await Post.objects.acreate(author=alice, body="deferred")
            inside = await read(profile)
        return post, inside

    post, inside = async_to_sync(scenario)()
    assert inside == [] and ids(profile) == [ref(post)]
    assert timelines["default"].get(homes[0]) == [{"body": "deferred"}]
    assert PendingOperation.objects.count() == 0


def test_a_store_that_is_down_never_fails_the_block_and_is_reported(people, riak_fault_server, riak_bucket, caplog):
    alice, bob, carol = people
    config = {"BACKEND": "django_timak.backends.riak.RiakBackend",
              "OPTIONS": {"URL": riak_fault_server.url, "BUCKET": riak_bucket, "TIMEOUT": 0.3, "RETRIES": 0}}
    received = []
    fanout_failed.connect(lambda **kw: received.append(kw), sender=Post, weak=False, dispatch_uid="async-down")

    async def scenario():
        async with abatched():
            return await Post.objects.acreate(author=alice, body="lost")

    try:
        with override_settings(TIMAK_TIMELINES={"default": config, "memory": MEMORY}, TIMAK_OUTBOX={"ENABLED": False}):
            riak_fault_server.down()
            post = async_to_sync(scenario)()
            other_store = ids(f"user:{alice.pk}:posts", "memory")
    finally:
        fanout_failed.disconnect(sender=Post, dispatch_uid="async-down")
        riak_fault_server.up()
    failed = {op.key for op in received[0]["operations"]}
    assert failed == set(keys_of(alice, bob, carol)) and Post.objects.filter(pk=post.pk).exists()
    assert "fan-out of tests.post failed for 3 key(s)" in caplog.text
    assert other_store == [ref(post)]  # the memory alias is another store: it got the post


def test_the_docs_example_runs_as_pasted(people):
    alice, bob, carol = people
    text = (Path(__file__).resolve().parent.parent / "docs" / "async.rst").read_text()
    (block,) = [b for b in re.findall(r"^\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text, re.M) if "abatched" in b]
    namespace = {"Post": Post}
    exec(compile(re.sub(r"^    ", "", block, flags=re.M), "docs/async.rst", "exec"), namespace)
    kept = async_to_sync(namespace["post_thread"])(alice, ["one", "two", "three"])
    assert ids(f"user:{alice.pk}:posts") == [ref(post) for post in reversed(kept)]
    assert [item["body"] for item in timelines["default"].get(f"user:{bob.pk}:home")] == ["three", "two"]
