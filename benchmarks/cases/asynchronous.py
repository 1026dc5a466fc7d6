"""Case 20: async page reads against a Riak node answering each request after 20 ms.

100 concurrent ``apage`` reads on one event loop (Riak over httpx, a pool of 100
connections) are measured against one ``apage``: natively async, they wait together,
target at most 3x. The same 100 reads through ``sync_to_async`` (what an async view
did before) are shown against the same floor: they are bounded by the thread pool.
The sync ``page()`` on the node without latency is shown against one raw read of the
key, the floor of any read: the sync API's cost beside the store's.
"""

import asyncio

from asgiref.sync import sync_to_async

from django_timak import Timeline
from django_timak.backends.riak import RiakBackend
from django_timak.testing.riak import RiakTestServer

from ..measure import compare
from ..report import ratio_row

CONCURRENT = 100
LATENCY = 0.020
KEY = "async:home"


def run(config):
    with RiakTestServer() as server:
        backend = RiakBackend(server.url, bucket="bench-async", pool_size=CONCURRENT, timeout=5.0)
        timeline = Timeline(backend, max_items=1000)
        timeline.add_many(KEY, [(i, i, {"n": i}) for i in range(1000)])
        loop = asyncio.new_event_loop()
        try:
            async def one():
                page = await timeline.apage(KEY, limit=20)
                assert len(page.items) == 20

            async def concurrent():
                await asyncio.gather(*(one() for _ in range(CONCURRENT)))

            async def threaded():
                await asyncio.gather(*(sync_to_async(timeline.page, thread_sensitive=False)(KEY, limit=20) for _ in range(CONCURRENT)))

            sync_page, raw_read = compare(lambda: timeline.page(KEY, limit=20), lambda: backend.read(KEY), config.runs * config.batch)
            server.latency = LATENCY
            runs = max(3, config.runs)
            many, single = compare(lambda: loop.run_until_complete(concurrent()), lambda: loop.run_until_complete(one()), runs)
            pooled, single_again = compare(lambda: loop.run_until_complete(threaded()), lambda: loop.run_until_complete(one()), runs)
            loop.run_until_complete(backend.aclose())
        finally:
            loop.close()
    return [
        ratio_row("20 async pages", f"{CONCURRENT} concurrent apage, Riak at +20 ms", "ms", many, single,
                  "one apage", limit=3, scale=1000),
        ratio_row("20 async pages", f"{CONCURRENT} concurrent page via sync_to_async", "ms", pooled, single_again,
                  "one apage", scale=1000),
        ratio_row("20 async pages", "sync page() of 20, Riak at +0 ms", "ms", sync_page, raw_read,
                  "one raw read of the key", scale=1000),
    ]
