"""The threads a Riak store sends concurrent requests from: started once, not per call.

Riak's HTTP API has no multi-get, so every page reads its key and the erasure record
with two GETs at once. Starting a pool of threads for each such call cost more than
the second GET (about 0.45 ms against 0.03 ms for a pool already running).
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait


class Threads:
    """A pool of ``size`` threads, started on first use and again in a forked child.

    A forked child inherits the pool object but none of its threads; it starts its
    own. Calls given to ``map`` must not call ``map`` themselves: the pool is shared
    by every caller of the store, and a call waiting for its own pool can deadlock.
    """

    def __init__(self, size: int, name: str):
        self.size = size
        self.name = name
        self._lock = threading.Lock()
        self._pool = None
        self._pid = None

    def map(self, function, calls: list[tuple]) -> list:
        """Return ``function(*call)`` for each call, in order: the first on this thread, the rest on the pool.

        Every call has finished when this returns or raises; the first failure in
        order is raised, as ``ThreadPoolExecutor.map`` does.
        """
        if len(calls) <= 1:
            return [function(*call) for call in calls]
        pool = self._running()
        pending = [pool.submit(function, *call) for call in calls[1:]]
        try:
            first = function(*calls[0])
        finally:
            wait(pending)
        return [first, *(future.result() for future in pending)]

    def close(self) -> None:
        """Stop the threads once their calls end; a later ``map`` starts new ones."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    def _running(self) -> ThreadPoolExecutor:
        pool, pid = self._pool, os.getpid()
        if pool is not None and self._pid == pid:
            return pool
        with self._lock:
            if self._pool is None or self._pid != pid:
                self._pool = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix=self.name)
                self._pid = pid
            return self._pool
