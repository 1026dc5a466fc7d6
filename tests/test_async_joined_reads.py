"""Concurrent async Riak reads of one key share a GET not yet sent, and only such a GET."""

import asyncio
from urllib.parse import unquote

import pytest

from django_timak import Timeline
from django_timak.backends.riak import RiakBackend
from django_timak.entries import Entry
from django_timak.erasure_record import ERASURE_KEY
from tests.riak_fixtures import value_holding


def gets_of(server, bucket, key):
    path = f"/buckets/{bucket}/keys/{key}"
    return [r for r in map(unquote, server.handled) if r.startswith("GET ") and r.partition("?")[0].endswith(path)]


def test_reads_started_together_send_one_get_and_each_gets_its_own_answer(riak_fault_server, riak_bucket):
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket)
    stored = value_holding(1)
    backend.append("k", stored)
    riak_fault_server.handled.clear()

    async def go():
        try:
            return await asyncio.gather(*(backend.aread("k") for _ in range(10)))
        finally:
            await backend.aclose()

    found = asyncio.run(go())
    assert len(gets_of(riak_fault_server, riak_bucket, "k")) == 1
    assert all(each == found[0] for each in found) and found[0].values == [stored]
    found[0].values.append(b"mine")
    assert found[1].values == [stored]


def test_a_read_started_after_the_get_left_sends_its_own_and_sees_what_was_written_before_it(
    riak_fault_server, riak_bucket
):
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket, timeout=5.0)
    backend.append("k", value_holding(1))
    token, written = backend.read("k").token, value_holding(2)
    riak_fault_server.handled.clear()
    riak_fault_server.stall_seconds = 1.0
    riak_fault_server.stall_next()

    async def go():
        try:
            first = asyncio.ensure_future(backend.aread("k"))
            while not gets_of(riak_fault_server, riak_bucket, "k"):  # the first GET has reached the node
                await asyncio.sleep(0.005)
            await backend.awrite("k", written, token)
            second = await backend.aread("k")
            still_waiting = not first.done()
            await first
            return second, still_waiting
        finally:
            await backend.aclose()

    second, still_waiting = asyncio.run(go())
    assert second.values == [written] and still_waiting
    assert len(gets_of(riak_fault_server, riak_bucket, "k")) == 2


def test_a_cancelled_reader_leaves_the_others_their_answer(riak_fault_server, riak_bucket):
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket)
    stored = value_holding(1)
    backend.append("k", stored)
    riak_fault_server.latency = 0.1

    async def go():
        try:
            gone = asyncio.ensure_future(backend.aread("k"))
            kept = asyncio.ensure_future(backend.aread("k"))
            await asyncio.sleep(0)
            gone.cancel()
            with pytest.raises(asyncio.CancelledError):
                await gone
            return await kept
        finally:
            await backend.aclose()

    assert asyncio.run(go()).values == [stored]


def test_joined_reads_share_the_error_of_their_get(riak_fault_server, riak_bucket):
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket, timeout=0.5, retries=0)
    riak_fault_server.down()

    async def go():
        try:
            return await asyncio.gather(*(backend.aread("k") for _ in range(3)), return_exceptions=True)
        finally:
            await backend.aclose()

    errors = asyncio.run(go())
    with pytest.raises(type(errors[0])) as synced:
        backend.read("k")
    assert [type(e) for e in errors] == [type(synced.value)] * 3
    assert len({str(e) for e in errors}) == 1 and "failed on GET" in str(errors[0])


def test_concurrent_pages_read_the_erasure_record_once_and_still_hide_an_erased_actor(riak_fault_server, riak_bucket):
    timeline = Timeline(RiakBackend(riak_fault_server.url, bucket=riak_bucket))
    keys = [f"user:{n}:home" for n in range(5)]
    for key in keys:
        timeline.replay(key, [Entry("p1", 1, 1, None, False, "u:7"), Entry("p2", 2, 1, None, False, "u:8")])
    riak_fault_server.handled.clear()

    async def go():
        try:
            before = await asyncio.gather(*(timeline.apage(key) for key in keys))
            await timeline.aerase_actor("u:7")
            return before, await asyncio.gather(*(timeline.apage(key) for key in keys))
        finally:
            await timeline.backend.aclose()

    before, after = asyncio.run(go())
    assert len(gets_of(riak_fault_server, riak_bucket, ERASURE_KEY)) == 2
    assert all(len(page.items) == 2 for page in before)
    assert all(page.items == ["p2"] for page in after)
