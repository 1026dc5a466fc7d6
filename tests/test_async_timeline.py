"""The async API of Timeline: the same results and errors as the sync one, on every store."""

import asyncio

import pytest
from asgiref.sync import async_to_sync

from django_timak import Timeline, bridge
from django_timak.backends.db import DatabaseBackend
from django_timak.backends.memory import MemoryBackend
from django_timak.backends.riak import RiakBackend
from django_timak.entries import Entry
from django_timak.exceptions import InvalidCursor, InvalidKey, InvalidTimelineInput, TimelineBackendError, WriteConflict
from tests.backends import UnreachableBackend

STORES = ["memory", "memory-siblings", pytest.param("database", marks=pytest.mark.django_db(transaction=True)), "riak"]


@pytest.fixture(params=STORES)
def store(request):
    """Return a function building a fresh backend of each kind (one per call, one place)."""
    if request.param == "memory":
        shared = MemoryBackend()
        return lambda: shared
    if request.param == "memory-siblings":
        shared = MemoryBackend(allow_mult=True)
        return lambda: shared
    if request.param == "database":
        return DatabaseBackend
    url, bucket = request.getfixturevalue("riak_url"), request.getfixturevalue("riak_bucket")
    return lambda: RiakBackend(url, bucket=bucket)


def run(coroutine_function, *args, **kwargs):
    """Run a coroutine from a test the way Django runs an async view: ORM calls on this thread."""
    return async_to_sync(coroutine_function)(*args, **kwargs)


def test_every_write_and_read_answers_as_the_sync_api_does(store):
    timeline = Timeline(store(), max_items=3, margin=2)
    twin = Timeline(MemoryBackend(), max_items=3, margin=2)

    async def scenario(t):
        said = [await t.aadd("k", "a", 1, {"n": 1})]
        said.append(await t.aadd_many("k", [("b", 2, None), ("c", 3, None), ("d", 4, None)], modified=10**12))
        said.append(await t.adelete("k", "c"))
        said.append(await t.adelete_many("k", ["x"], modified=10**12 + 1))
        said.append(await t.aadd_and_delete("k", adds=[("e", 5, "five")], deletes=["a"]))
        said.append(await t.aget("k"))
        said.append(await t.aget("k", raw=True))
        page = await t.apage("k", limit=2)
        said.append((page.items, (await t.apage("k", limit=2, cursor=page.next_cursor)).items))
        return said

    def same_in_sync(t):
        said = [t.add("k", "a", 1, {"n": 1})]
        said.append(t.add_many("k", [("b", 2, None), ("c", 3, None), ("d", 4, None)], modified=10**12))
        said.append(t.delete("k", "c"))
        said.append(t.delete_many("k", ["x"], modified=10**12 + 1))
        said.append(t.add_and_delete("k", adds=[("e", 5, "five")], deletes=["a"]))
        said.append(t.get("k"))
        said.append(t.get("k", raw=True))
        page = t.page("k", limit=2)
        said.append((page.items, t.page("k", limit=2, cursor=page.next_cursor).items))
        return said

    def without_clocks(said):
        return [[e._replace(clock=0) if isinstance(e, Entry) else e for e in part] if isinstance(part, list) else part for part in said]

    got = run(scenario, timeline)
    assert without_clocks(got) == without_clocks(same_in_sync(twin))
    assert got[5] == ["five", "d", "b"] and got[-1] == (["five", "d"], ["b"])


def test_copy_remove_catch_up_replay_and_clear_have_async_forms(store):
    timeline = Timeline(store(), max_items=10)

    async def scenario():
        await timeline.aadd_many("author", [(i, i, None) for i in range(4)])
        await timeline.acopy_items("author", "reader", limit=3)
        copied = await timeline.aget("reader")
        await timeline.aremove_items("author", "reader")
        removed = await timeline.aget("reader")
        await timeline.acatch_up("author", ["reader"])
        caught = await timeline.aget("reader")
        await timeline.areplay("reader", [Entry(9, 9, 10**12, None, False)])
        await timeline.aappend_changes({"reader": [Entry(9, 9, 10**12 + 1, None, True)], "other": [Entry(7, 7, 10**12, None, False)]})
        changed = (await timeline.aget("reader"), await timeline.aget("other"))
        merged = [e.id for e in await timeline.amerged_entries(["reader", "other"])]
        await timeline.aclear("reader")
        return copied, removed, caught, changed, merged, await timeline.aget("reader")

    copied, removed, caught, changed, merged, cleared = run(scenario)
    assert copied == [3, 2, 1] and removed == [] and caught == [3, 2, 1, 0]
    assert changed == ([3, 2, 1, 0], [7]) and merged == [7, 3, 2, 1, 0] and cleared == []


def test_bad_input_raises_the_sync_apis_named_errors_and_writes_nothing(store):
    backend = store()
    timeline = Timeline(backend, max_items=10)

    async def attempt(call):
        with pytest.raises((InvalidTimelineInput, InvalidCursor)) as raised:
            await call
        return type(raised.value)

    async def scenario():
        return [
            await attempt(timeline.aadd("", 1, 1)),
            await attempt(timeline.aadd_many("k", [(1, "not a score", None)])),
            await attempt(timeline.apage("k", limit=0)),
            await attempt(timeline.apage("k", cursor="not ours")),
            await attempt(timeline.aappend_changes({"k": [Entry(1, 1, -5, None, False)]})),
        ]

    errors = run(scenario)
    assert errors[3] is InvalidCursor and issubclass(errors[0], InvalidKey)
    assert backend.read("k").values == []


def test_a_store_that_is_down_raises_the_backend_error_in_async_code_too():
    timeline = Timeline(UnreachableBackend())
    with pytest.raises(TimelineBackendError, match="connection refused"):
        run(timeline.apage, "k")


class ConflictingOnce(MemoryBackend):
    """A store whose first write conflicts, as a concurrent database writer makes it."""

    conflicts = 1

    def write(self, key, value, token):
        if self.conflicts:
            self.conflicts -= 1
            raise WriteConflict("changed meanwhile", key=key)
        super().write(key, value, token)


def test_a_conflict_is_retried_with_the_backoff_awaited_instead_of_blocking_the_loop(monkeypatch):
    def blocking(seconds):
        raise AssertionError("the event loop was blocked by time.sleep")

    monkeypatch.setattr(Timeline, "_pause", staticmethod(blocking))
    backend = ConflictingOnce()
    timeline = Timeline(backend, max_items=10)
    assert asyncio.run(timeline.aadd("k", 1, 1)) == [1]
    assert backend.conflicts == 0 and timeline.get("k") == [1]
    backend.conflicts = 1
    with pytest.raises(AssertionError, match="blocked"):
        timeline.add("k", 2, 2)  # the sync API does sleep in its thread


def test_many_async_reads_run_at_once_on_one_thread():
    timeline = Timeline(MemoryBackend(), max_items=10)
    timeline.add("k", 1, 1)

    async def scenario():
        return await asyncio.gather(*(timeline.aget("k") for _ in range(50)))

    assert asyncio.run(scenario()) == [[1]] * 50


def test_wait_outside_the_bridge_is_a_clear_error():
    async def nothing():
        return None

    with pytest.raises(RuntimeError, match="only for code that django_timak.bridge.run"):
        bridge.wait(nothing())


def test_the_async_pages_examples_run_as_pasted():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "async.rst").read_text()
    blocks = re.findall(r"^\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text, re.M)
    assert len(blocks) == 3
    for block in blocks[:2]:  # the third saves posts: tests/test_async_fanout.py runs it
        exec(compile(re.sub(r"^    ", "", block, flags=re.M), "docs/async.rst", "exec"), {})
