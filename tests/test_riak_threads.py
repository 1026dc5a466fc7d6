"""The Riak store's threads: concurrent calls over one pool that outlives them, also after a fork."""

import multiprocessing
import threading
import time

import pytest

from django_timak.backends.riak import RiakBackend
from django_timak.backends.riak.threads import Threads


def test_calls_run_at_once_and_answer_in_order():
    threads = Threads(4, "test-threads")
    together = threading.Barrier(5, timeout=5)  # the caller's call and four on the pool

    def call(n):
        together.wait()
        return n * 10

    assert threads.map(call, [(n,) for n in range(5)]) == [0, 10, 20, 30, 40]
    threads.close()


def test_the_pool_is_started_once_for_many_calls():
    threads = Threads(3, "test-reused")
    for _ in range(50):
        threads.map(lambda n: n, [(1,), (2,), (3,)])
    named = [t for t in threading.enumerate() if t.name.startswith("test-reused")]
    assert 1 <= len(named) <= 3
    threads.close()


def test_the_first_failure_in_order_is_raised_once_every_call_has_ended():
    threads = Threads(4, "test-failing")
    ended = []

    def call(n):
        if n == 3:
            time.sleep(0.2)
            ended.append(n)
            return n
        if n in (1, 2):
            raise ValueError(f"call {n}")
        return n

    with pytest.raises(ValueError, match="call 1"):
        threads.map(call, [(n,) for n in range(4)])
    assert ended == [3], "map returned before the slow call ended"
    threads.close()


def run_in_child(threads, answers):
    answers.put(threads.map(lambda n: n + 1, [(1,), (2,), (3,)]))


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_forked_child_starts_threads_of_its_own():
    threads = Threads(2, "test-forked")
    together = threading.Barrier(3, timeout=5)
    threads.map(lambda n: together.wait(), [(1,), (2,), (3,)])  # both of the parent's threads ran, and are idle
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    child = context.Process(target=run_in_child, args=(threads, answers))
    child.start()
    child.join(10)
    if child.exitcode is None:
        child.kill()
        pytest.fail("the child waited for the parent's threads, which it does not have")
    assert child.exitcode == 0
    assert answers.get(timeout=1) == [2, 3, 4]
    threads.close()


def test_a_stores_views_of_other_buckets_share_its_threads():
    store = RiakBackend("http://127.0.0.1:1", pool_size=3)
    assert store.in_bucket("other")._threads is store._threads
