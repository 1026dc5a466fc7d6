"""Timelines stored in Riak: concurrent writers, siblings merged and repaired, failures."""

import logging
import threading
from datetime import datetime

import pytest

from django_timak import Timeline
from django_timak.backends.riak import RiakBackend
from django_timak.exceptions import TimelineBackendError
from django_timak.handler import TimelineConfigError, build_timeline
from tests.riak_fixtures import value_holding
from tests.timak_example import run_timak_example


def backend_for(url, bucket, **options):
    return RiakBackend(url, bucket=bucket, **options)


def run_together(*jobs):
    """Run the jobs on threads started at once; re-raise the first failure."""
    start = threading.Barrier(len(jobs))
    errors = []

    def run(job):
        start.wait()
        try:
            job()
        except Exception as e:  # noqa: BLE001 - handed to the test thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def test_the_timak_readme_example_runs_on_riak(riak_url, riak_bucket):
    line = f"from django_timak.backends.riak import RiakBackend; conn = RiakBackend({riak_url!r}, bucket={riak_bucket!r})"
    assert run_timak_example(line) == (0, 10)


def test_concurrent_adds_from_two_processes_all_survive(riak_url, riak_bucket):
    first, second = (Timeline(backend_for(riak_url, riak_bucket), max_items=1000) for _ in range(2))

    def adds(timeline, ids):
        return lambda: [timeline.add("k", i, i) for i in ids]

    run_together(adds(first, range(500)), adds(second, range(500, 1000)))
    assert first.get("k") == list(range(999, -1, -1))
    # Each write merged the siblings it read; the two last writes may still race
    # (two values, under compact_on_read), and the next write merges those too.
    assert len(first.backend.read("k").values) <= 2
    first.add("k", 1000, 1000)
    assert len(first.backend.read("k").values) == 1
    assert first.get("k") == list(range(1000, 0, -1)), "max_items=1000"


def test_concurrent_adds_and_deletes_keep_deleted_ids_deleted(riak_url, riak_bucket):
    first, second = (Timeline(backend_for(riak_url, riak_bucket), max_items=2000, max_tombstones=1000) for _ in range(2))
    first.add_many("k", [(i, i, None) for i in range(600)])

    def first_job():
        for i in range(300):
            first.add("k", 1000 + i, 1000 + i)
            first.delete("k", 2 * i)

    def second_job():
        for i in range(300):
            second.add("k", 2000 + i, 2000 + i)
            if i % 3 == 0:
                second.delete("k", 2000 + i)

    run_together(first_job, second_job)
    expected = [*range(1, 600, 2), *range(1000, 1300), *(2000 + i for i in range(300) if i % 3)]
    assert second.get("k") == sorted(expected, reverse=True)
    assert len(second.backend.read("k").values) <= 2, "the two last writes may race"
    second.delete("k", 99_999)
    assert len(second.backend.read("k").values) == 1
    assert second.get("k") == sorted(expected, reverse=True)


def test_get_merges_siblings_and_writes_the_merge_back(riak_url, riak_bucket):
    backend = backend_for(riak_url, riak_bucket)
    timeline = Timeline(backend, max_items=10, compact_on_read=2)
    timeline.add("k", 1, 1)
    stale = backend.read("k")
    timeline.add("k", 2, 2)
    backend.write("k", value_holding(1, 3), stale.token)  # a writer that read before id 2 came
    assert len(backend.read("k").values) == 2
    assert timeline.get("k") == [3, 2, 1]
    assert len(backend.read("k").values) == 1


@pytest.mark.fault
def test_a_failed_read_repair_only_delays_the_repair(riak_fault_server, riak_bucket, caplog):
    backend = backend_for(riak_fault_server.url, riak_bucket, retries=0)
    timeline = Timeline(backend, max_items=10, compact_on_read=2)
    backend.write("k", value_holding(1), None)
    backend.write("k", value_holding(2), None)
    riak_fault_server.fail_every = riak_fault_server.requests + 3  # the reads (the key, the erasure record) pass, the repair gets a 503
    with caplog.at_level(logging.WARNING, logger="django_timak"):
        assert timeline.get("k") == [2, 1]
    riak_fault_server.reset_faults()
    assert "read repair of 'k' failed" in caplog.text
    assert len(backend.read("k").values) == 2
    assert timeline.get("k") == [2, 1]
    assert len(backend.read("k").values) == 1


def test_past_the_sibling_limit_a_read_merges_everything_back_into_one(riak_url, riak_bucket):
    backend = backend_for(riak_url, riak_bucket, retries=0)
    for number in range(100):
        backend.write("k", value_holding(number), None)
    with pytest.raises(TimelineBackendError, match="101 siblings"):
        backend.write("k", value_holding(100), None)
    timeline = Timeline(backend, max_items=200)
    assert timeline.get("k") == list(range(99, -1, -1))
    assert len(backend.read("k").values) == 1
    assert timeline.add("k", 100, 100)[:2] == [100, 99]


FAULTS = {
    "stopped": lambda server: server.down(),
    "answering 503": lambda server: setattr(server, "fail_every", 1),
    "stalling": lambda server: setattr(server, "stall_every", 1),
}


@pytest.mark.fault
@pytest.mark.parametrize("fault", FAULTS)
def test_a_failing_riak_raises_after_at_most_three_requests_and_writes_nothing(riak_fault_server, riak_bucket, fault):
    """Each key read: three attempts at most (their time is bounded in test_riak_backend, on a fake clock).

    ``get`` reads the key and the erasure record concurrently: three attempts each.
    """
    timeline = Timeline(backend_for(riak_fault_server.url, riak_bucket, timeout=0.3, retries=2), max_items=10)
    timeline.add("k", 1, datetime(2011, 1, 1))
    riak_fault_server.stall_seconds = 1.0
    FAULTS[fault](riak_fault_server)
    for call, keys in ((lambda: timeline.add("k", 2, datetime(2011, 1, 2)), 1), (lambda: timeline.get("k"), 2)):
        before = riak_fault_server.requests
        with pytest.raises(TimelineBackendError):
            call()
        assert riak_fault_server.requests - before <= 3 * keys
    riak_fault_server.reset_faults()
    riak_fault_server.up()
    assert timeline.get("k") == [1]


@pytest.mark.fault
def test_a_failed_write_leaves_the_timeline_as_it_was(riak_fault_server, riak_bucket):
    timeline = Timeline(backend_for(riak_fault_server.url, riak_bucket, retries=0), max_items=10)
    timeline.add("k", 1, 1)
    riak_fault_server.fail_every = riak_fault_server.requests + 2  # the add's read passes, its write fails
    with pytest.raises(TimelineBackendError, match="503"):
        timeline.add("k", 2, 2)
    riak_fault_server.reset_faults()
    assert timeline.get("k") == [1]


def test_settings_options_build_a_riak_timeline(riak_url, riak_bucket):
    config = {
        "BACKEND": "django_timak.backends.riak.RiakBackend",
        "OPTIONS": {"URL": riak_url, "BUCKET_TYPE": "timak", "BUCKET": riak_bucket, "TIMEOUT": 3, "W": "quorum"},
        "MAX_ITEMS": 2,
        "COMPRESS": "zlib",
    }
    timeline = build_timeline("riak", config)
    assert (timeline.backend.bucket, timeline.backend.timeout, timeline.backend.quorums) == (riak_bucket, 3, {"w": "quorum"})
    assert timeline.add("k", 1, 1) == [1]
    with pytest.raises(TimelineConfigError, match=r"TIMAK_TIMELINES\['riak'\] is invalid: timeout must be"):
        build_timeline("riak", {**config, "OPTIONS": {"TIMEOUT": 0}})
