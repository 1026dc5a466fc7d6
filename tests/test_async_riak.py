"""The Riak store's native async calls (aiohttp): the same answers and named errors as the sync ones."""

import asyncio
import time

import pytest

from django_timak import Timeline
from django_timak.backends.riak import RiakBackend
from django_timak.exceptions import BucketTypeMissing, RiakAccessDenied, RiakTLSError, TimelineBackendError
from tests.riak_fixtures import RIAK_PASSWORD, RIAK_USER, value_holding


def both(backend, name, *args):
    """Return ``(sync result, async result)`` of one storage call (the async one on a fresh loop)."""
    synced = getattr(backend, name)(*args)
    return synced, asyncio.run(getattr(backend, f"a{name}")(*args))


def error_of(call):
    with pytest.raises(TimelineBackendError) as caught:
        call()
    return type(caught.value), caught.value.message, caught.value.status


def async_call(backend, name, *args):
    async def go():
        try:
            return await getattr(backend, name)(*args)
        finally:
            await backend.aclose()

    return lambda: asyncio.run(go())


def test_siblings_and_vclocks_read_async_as_sync(riak_url, riak_bucket):
    backend = RiakBackend(riak_url, bucket=riak_bucket)
    assert both(backend, "read", "k") == (backend.read("k"), backend.read("k"))
    one, two, merged = value_holding(1), value_holding(2), value_holding(1, 2)
    backend.append("k", one)
    asyncio.run(backend.aappend("k", two))
    synced, awaited = both(backend, "read", "k")
    assert sorted(awaited.values) == sorted(synced.values) == sorted([one, two])
    assert awaited.token == synced.token
    asyncio.run(backend.awrite("k", merged, awaited.token))
    assert backend.read("k").values == [merged]
    asyncio.run(backend.adelete("k", backend.read("k").token))
    deleted, deleted_async = both(backend, "read", "k")
    assert deleted.values == deleted_async.values == [] and deleted_async.token == deleted.token
    assert asyncio.run(backend.aping()) is True


def test_many_reads_and_appends_go_concurrently_within_the_async_pool(riak_fault_server, riak_bucket):
    riak_fault_server.latency = 0.05
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket, pool_size=2, async_pool_size=8)
    keys = [f"k{i}" for i in range(24)]
    value = value_holding(1)
    counts = asyncio.run(backend.aappend_many(dict.fromkeys(keys, value)))
    assert counts == dict.fromkeys(keys, 1)
    assert 2 <= riak_fault_server.most_in_flight <= 8
    found = asyncio.run(backend.aread_many(keys + keys[:3]))
    assert list(found) == keys and all(v.values == [value] for v in found.values())


def test_a_timeline_on_riak_pages_in_async_code_like_in_sync(riak_url, riak_bucket):
    timeline = Timeline(RiakBackend(riak_url, bucket=riak_bucket), max_items=50)

    async def scenario():
        await timeline.aadd_many("home", [(i, i, None) for i in range(30)])
        await timeline.aappend_changes({"pulled": [e for e in timeline.get("home", raw=True)[:2]]})
        first = await timeline.apage("home", limit=20, sources=["pulled"])
        second = await timeline.apage("home", limit=20, cursor=first.next_cursor, sources=["pulled"])
        return first.items, second.items

    assert asyncio.run(scenario()) == (list(range(29, 9, -1)), list(range(9, -1, -1)))


@pytest.mark.fault
def test_a_503_is_retried_and_a_node_that_is_down_is_the_sync_error(riak_fault_server, riak_bucket):
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket, retries=1, backoff=0.01, timeout=0.5)
    riak_fault_server.fail_next(1)
    assert asyncio.run(backend.aread("k")).values == []
    riak_fault_server.down()
    kind, message, status = error_of(async_call(backend, "aread", "k"))
    synced = error_of(lambda: backend.read("k"))
    assert (kind, status) == (synced[0], synced[2]) == (TimelineBackendError, None)
    assert message.startswith(f"Riak at {backend.url} failed on GET ") and "Connect call failed" in message
    riak_fault_server.up()
    riak_fault_server.fail_every = 1
    assert error_of(async_call(backend, "aread", "k")) == error_of(lambda: backend.read("k"))


@pytest.mark.fault
def test_a_stalled_node_times_out_within_the_bound(riak_fault_server, riak_bucket):
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket, retries=0, timeout=0.2)
    riak_fault_server.stall_seconds = 1.0
    riak_fault_server.stall_next(1)
    kind, message, _ = error_of(async_call(backend, "aread", "k"))
    assert kind is TimelineBackendError and "failed on GET" in message


@pytest.mark.fault
def test_a_node_that_is_down_fails_over_to_another(riak_cluster, riak_bucket):
    backend = RiakBackend(urls=riak_cluster.urls, bucket=riak_bucket, retries=0)
    riak_cluster.nodes[0].down()
    timeline = Timeline(backend)

    async def scenario():
        for i in range(4):
            await timeline.aadd("k", i, i)
        return await timeline.aget("k")

    assert asyncio.run(scenario()) == [3, 2, 1, 0]


def test_a_missing_bucket_type_is_the_same_named_error(riak_url, riak_bucket):
    backend = RiakBackend(riak_url, bucket_type="no-such-type", bucket=riak_bucket)
    synced = error_of(lambda: backend.read("k"))
    assert synced[0] is BucketTypeMissing and error_of(async_call(backend, "aread", "k")) == synced


def test_tls_with_basic_auth_works_and_its_failures_are_the_sync_errors(riak_secure_server, riak_bucket):
    def secure(**options):
        options = {"ca_file": riak_secure_server.ca_file, "username": RIAK_USER, "password": RIAK_PASSWORD, **options}
        return RiakBackend(riak_secure_server.url, bucket=riak_bucket, retries=0, **options)

    backend = secure()
    asyncio.run(backend.awrite("k", b"over tls", None))
    assert asyncio.run(backend.aread("k")).values == [b"over tls"]
    for failing in (secure(ca_file=None), secure(password="not-the-password"), secure(username=None, password=None)):
        synced = error_of(lambda: failing.read("k"))
        assert error_of(async_call(failing, "aread", "k")) == synced
        assert synced[0] in (RiakTLSError, RiakAccessDenied) and RIAK_PASSWORD not in synced[1]
    plain = RiakBackend(riak_secure_server.url.replace("https://", "http://"), bucket=riak_bucket, retries=0)
    assert "use an https:// URL" in error_of(async_call(plain, "aread", "k"))[1]


def test_credentials_over_plain_http_are_never_sent(riak_fault_server, riak_bucket):
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket, username=RIAK_USER, password=RIAK_PASSWORD)
    before = riak_fault_server.requests
    kind, message, _ = error_of(async_call(backend, "aread", "k"))
    assert kind is RiakAccessDenied and "nothing was sent" in message
    assert riak_fault_server.requests == before


def test_one_backend_serves_one_event_loop_after_another(riak_url, riak_bucket):
    backend = RiakBackend(riak_url, bucket=riak_bucket)
    for i in range(3):
        asyncio.run(backend.aappend("k", value_holding(i)))
    assert len(backend.read("k").values) == 3


@pytest.mark.subprocess
def test_importing_the_riak_backend_does_not_import_aiohttp_or_greenlet():
    from tests.checkout import run_python

    done = run_python("import sys, django_timak.backends.riak, django_timak.timeline; print('aiohttp' in sys.modules, 'greenlet' in sys.modules)")
    assert done.stdout.split() == ["False", "False"]



def test_a_loop_that_ends_closes_its_connections_and_is_forgotten(riak_url, riak_bucket):
    backend = RiakBackend(riak_url, bucket=riak_bucket)
    transport = backend._async_transport()
    opened = []

    async def read():
        await backend.aread("k")
        opened.extend(transport._loops[asyncio.get_running_loop()].sessions.values())

    asyncio.run(read())
    asyncio.run(read())
    assert len(opened) == 2 and all(session.closed for session in opened)
    assert len(transport._loops) == 1


@pytest.mark.parametrize("size", [0, 2.5, True, "100"])
def test_a_bad_async_pool_size_is_refused_by_name(size):
    with pytest.raises(ValueError, match="async_pool_size must be a number of at least 1"):
        RiakBackend(async_pool_size=size)


def test_reads_beyond_the_pool_wait_for_a_free_connection_and_all_answer(riak_fault_server, riak_bucket):
    riak_fault_server.latency = 0.05
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket, async_pool_size=2)
    keys = [f"k{i}" for i in range(6)]
    for key in keys:
        backend.append(key, value_holding(1))
    for _ in range(500):  # an earlier test's request, still served, would count as in flight
        if not riak_fault_server.in_flight:
            break
        time.sleep(0.01)
    riak_fault_server.reset_faults()
    riak_fault_server.latency = 0.05

    async def go():
        try:
            return await asyncio.gather(*(backend.aread(key) for key in keys))
        finally:
            await backend.aclose()

    found = asyncio.run(go())
    assert [len(each.values) for each in found] == [1] * 6
    assert riak_fault_server.most_in_flight == 2
