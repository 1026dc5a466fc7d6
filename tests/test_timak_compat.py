"""timak's constructor, methods and test suite, on the memory, database and Riak test-server stores."""

from datetime import datetime, timezone

import pytest

from django_timak import Timeline
from django_timak.backends.db import DatabaseBackend
from django_timak.backends.memory import MemoryBackend
from django_timak.backends.riak import RiakBackend
from django_timak.entries import Entry
from django_timak.exceptions import InvalidTimelineInput, WriteConflict

BUCKET = "test-timak"


@pytest.fixture(params=["memory", pytest.param("database", marks=pytest.mark.django_db(transaction=True)), "riak"])
def connection(request):
    """timak's client, built as each of our stores (the one line timak code changes)."""
    if request.param == "database":
        return DatabaseBackend()
    if request.param == "riak":
        url = request.getfixturevalue("riak_url")
        return RiakBackend(url, bucket=request.getfixturevalue("riak_bucket"))
    return MemoryBackend(allow_mult=True)


@pytest.fixture
def key(connection):
    """timak's key (its tests use the bucket's name), cleared after the test."""
    yield BUCKET
    Timeline(connection=connection, bucket=BUCKET).clear(BUCKET)


def now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def test_max_items_keeps_the_newest_three(connection, key):
    timeline = Timeline(connection=connection, bucket=BUCKET, max_items=3)
    moment = now()
    for uniq_ident in (1, 2, 3):
        timeline.add(key, uniq_ident, moment)
    assert len(timeline.get(key)) == 3
    timeline.add(key, 4, moment)
    assert len(timeline.get(key)) == 3


def test_a_delete_empties_a_timeline_of_one(connection, key):
    timeline = Timeline(connection=connection, bucket=BUCKET, max_items=3)
    moment = now()
    timeline.add(key, 1, moment)
    assert len(timeline.get(key)) == 1
    timeline.delete(key, 1, moment)
    assert len(timeline.get(key)) == 0


def test_two_writers_with_stale_tokens_leave_two_siblings_or_a_conflict(connection, key):
    bucket1 = Timeline(connection=connection, bucket=BUCKET).get_bucket()
    bucket2 = Timeline(connection=connection, bucket=BUCKET).get_bucket()
    first, second = bucket1.read(key), bucket2.read(key)
    bucket1.write(key, b"object-1", first.token)
    if isinstance(connection, DatabaseBackend):
        # The database keeps no siblings: the stale writer is told, and a Timeline retries.
        with pytest.raises(WriteConflict):
            bucket2.write(key, b"object-2", second.token)
        return
    bucket2.write(key, b"object-2", second.token)
    assert sorted(bucket1.read(key).values) == [b"object-1", b"object-2"]


def test_timaks_positional_form_means_bucket_order_max_items(connection, key):
    timeline = Timeline(connection, BUCKET, "asc", 3)
    assert (timeline.bucket, timeline.order, timeline.max_items) == (BUCKET, "asc", 3)
    for n in range(1, 5):
        timeline.add(key, n, datetime(2011, 1, n))
    assert timeline.get(key) == [1, 2, 3]  # oldest first, trimmed at the end, as timak did


def test_our_positional_form_still_means_max_items_order_compress(connection):
    timeline = Timeline(connection, 5, "asc", "zlib")
    assert (timeline.bucket, timeline.max_items, timeline.order, timeline.compress) == (None, 5, "asc", "zlib")
    assert timeline.backend is connection


def test_get_connection_answers_the_client_and_get_bucket_its_bucket(connection):
    timeline = Timeline(connection=connection, bucket="other")
    assert timeline.get_connection() is connection
    assert timeline.get_bucket() is timeline.backend is not connection


def test_raw_answers_timaks_dicts_when_built_the_timak_way(connection, key):
    timeline = Timeline(connection=connection, bucket=BUCKET)
    timeline.add(key, 1, datetime(2011, 1, 1))
    added = timeline.add(key, 2, datetime(2011, 1, 2), obj_data={"body": "Hello"}, raw=True)
    assert [set(d) for d in added] == [{"id", "timestamp", "modified", "data"}, {"id", "timestamp", "modified"}]
    assert [(d["id"], d["timestamp"], d.get("data")) for d in timeline.get(key, raw=True)] == [
        (2, 1293926400000, {"body": "Hello"}),
        (1, 1293840000000, None),
    ]
    assert abs(added[0]["modified"] - now().replace(tzinfo=timezone.utc).timestamp() * 1000) < 60_000


def test_raw_still_answers_entries_when_built_with_backend(connection, key):
    timeline = Timeline(backend=connection, bucket=BUCKET, raw_dicts=False)
    [entry] = timeline.add(key, 1, datetime(2011, 1, 1), raw=True)
    assert isinstance(entry, Entry) and entry.id == 1
    assert isinstance(Timeline(connection).add("plain", 1, 1, raw=True)[0], Entry)
    Timeline(connection).clear("plain")


def test_two_buckets_never_see_each_others_keys(connection, key):
    first = Timeline(connection=connection, bucket=BUCKET)
    second = Timeline(connection=connection, bucket="test-timak-2")
    first.add(key, 1, 1)
    second.add(key, 2, 2)
    assert (first.get(key), second.get(key)) == ([1], [2])
    second.clear(key)


def test_a_riak_timeline_with_a_bucket_talks_to_that_bucket(riak_url, riak_bucket):
    connection = RiakBackend(riak_url, bucket=riak_bucket)
    Timeline(connection=connection, bucket=f"{riak_bucket}-b").add("k", 1, 1)
    assert RiakBackend(riak_url, bucket=f"{riak_bucket}-b").read("k").values
    assert connection.read("k").values == []


@pytest.mark.parametrize("bucket", ["", "a/b", 3])
def test_a_bad_bucket_is_refused_by_name(bucket):
    with pytest.raises(InvalidTimelineInput, match="bucket"):
        Timeline(connection=MemoryBackend(), bucket=bucket)


def test_a_value_given_by_position_and_by_name_is_a_type_error():
    with pytest.raises(TypeError, match="max_items both by position and by name"):
        Timeline(MemoryBackend(), "b", "desc", 3, max_items=5)
    with pytest.raises(TypeError, match="at most 4 positional"):
        Timeline(MemoryBackend(), "b", "desc", 3, 4)


def test_the_async_get_answers_timaks_dicts_too():
    import asyncio

    timeline = Timeline(connection=MemoryBackend(), bucket=BUCKET)
    timeline.add("k", 1, 1)
    [found] = asyncio.run(timeline.aget("k", raw=True))
    assert (found["id"], found["timestamp"]) == (1, 1)
