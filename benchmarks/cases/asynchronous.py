"""Case 20: async page reads against a Riak node answering each request after 20 ms.

The Riak test nodes and the ASGI server run in processes of their own (as Riak and
the web workers do in production), so the reads' client shares its GIL with neither.
Each of the 100 concurrent readers reads a key of its own (``async:N:home``), as the
readers of a site do. Under uvicorn, 100 concurrent GETs of an ``AsyncTimelineView``
page are measured against one GET (the issue's target: at most 3x), beside the same for
an ASGI app that only sleeps 20 ms (what uvicorn and the client allow on this machine),
for a Django async view that only sleeps 20 ms (what Django's request handling allows:
a thread started and joined per request), for the timeline view under ``--workers 2``
(a deployment choice on two cores), and 100 concurrent ``apage`` reads on one event
loop against one ``apage`` (the same target, without Django's request handling). What
is left over the 20 ms is CPU: the same 100 ``apage`` reads from a node without latency
are shown against one read at +20 ms. The same 100 reads through ``sync_to_async``
(what an async view did before) are bounded by the thread pool. The sync ``page()``,
on an in-process node without latency as in earlier runs, is shown against one raw
read of the key: the sync API's cost beside the store's.
"""

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from asgiref.sync import sync_to_async

from django_timak import Timeline
from django_timak.backends.riak import RiakBackend
from django_timak.testing.riak import RiakTestServer

from .. import measure
from ..measure import Stats, timed
from ..report import ratio_row

CONCURRENT = 100
LATENCY = 0.020
KEYS = [f"async:{n}:home" for n in range(CONCURRENT)]
BUCKET = "bench-async"
ROOT = Path(__file__).resolve().parents[2]


def asgi_application():
    """Return the ASGI app uvicorn serves (``--factory``): an AsyncTimelineView over Riak at $TIMAK_BENCH_RIAK."""
    import django
    from django.conf import settings
    from django.core.asgi import get_asgi_application
    from django.http import JsonResponse
    from django.urls import path

    from django_timak.async_views import AsyncTimelineView

    class HomeView(AsyncTimelineView):
        def get_timeline_key(self):
            return KEYS[int(self.request.GET.get("reader", 0))]

    async def sleeping_view(request):
        await asyncio.sleep(LATENCY)
        return JsonResponse({"items": []})

    global urlpatterns
    urlpatterns = [path("home/", HomeView.as_view()), path("sleep/", sleeping_view)]
    settings.configure(
        SECRET_KEY="benchmarks", ALLOWED_HOSTS=["127.0.0.1"], ROOT_URLCONF=__name__, MIDDLEWARE=[],
        INSTALLED_APPS=["django.contrib.contenttypes", "django_timak"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        TIMAK_TIMELINES={"default": {
            "BACKEND": "django_timak.backends.riak.RiakBackend", "MAX_ITEMS": 1000,
            "OPTIONS": {"URL": os.environ["TIMAK_BENCH_RIAK"], "BUCKET": BUCKET, "TIMEOUT": 5.0},
        }},
    )
    django.setup()
    return get_asgi_application()


async def sleeping_application(scope, receive, send):
    """An ASGI app that answers after the same 20 ms and does nothing else: the ASGI server's own ceiling."""
    if scope["type"] != "http":
        return
    await asyncio.sleep(LATENCY)
    body = b'{"items": []}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _uvicorn(app, factory, env=None, workers=1):
    """Return (process, port) of uvicorn serving ``app`` of this module in its own process(es)."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", *(["--factory"] if factory else []), f"{__name__}:{app}",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
               *(["--workers", str(workers)] if workers > 1 else [])]
    return _started(command, env), port


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _started(command, env=None):
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _riak_node(latency):
    """Return (process, url) of a Riak test node in its own process."""
    port = _free_port()
    process = _started([sys.executable, "-m", "django_timak.testing.riak", "--port", str(port),
                        "--latency", str(latency)])
    line = process.stdout.readline()
    if "Riak test server on" not in line:
        process.kill()
        raise RuntimeError(f"the Riak test server did not start: {line}{process.stdout.read()}")
    return process, f"http://127.0.0.1:{port}"


async def _until_served(session, url, process):
    for _ in range(300):
        try:
            async with session.get(url) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn stopped: {process.stdout.read()}")
        await asyncio.sleep(0.1)
    raise RuntimeError("uvicorn did not answer")


def run(config):
    import aiohttp

    runs = max(3, config.runs)
    slow, slow_url = _riak_node(LATENCY)
    fast, fast_url = _riak_node(0.0)
    riak = {"TIMAK_BENCH_RIAK": slow_url}
    asgi, port = _uvicorn("asgi_application", True, env=riak)
    asgi2, port2 = _uvicorn("asgi_application", True, env=riak, workers=2)
    bare, bare_port = _uvicorn("sleeping_application", False)
    loop = asyncio.new_event_loop()
    try:
        items = [(i, i, {"n": i}) for i in range(1000)]
        timeline, at_once = (Timeline(RiakBackend(url, bucket=BUCKET, timeout=5.0, async_pool_size=CONCURRENT),
                                      max_items=1000) for url in (slow_url, fast_url))
        for each in (timeline, at_once):
            for key in KEYS:
                each.add_many(key, items)
        session = loop.run_until_complete(_session(aiohttp, CONCURRENT))
        page_url, bare_url = f"http://127.0.0.1:{port}/home/?format=json", f"http://127.0.0.1:{bare_port}/"
        page2_url, django_url = f"http://127.0.0.1:{port2}/home/?format=json", f"http://127.0.0.1:{port}/sleep/"
        for url, process in ((page_url, asgi), (page2_url, asgi2), (bare_url, bare)):
            loop.run_until_complete(_until_served(session, url, process))

        async def get(n=0, url=page_url, items=20):
            async with session.get(f"{url}&reader={n}" if "?" in url else url) as response:
                assert response.status == 200 and len((await response.json())["items"]) == items

        async def one(n=0, on=timeline):
            page = await on.apage(KEYS[n], limit=20)
            assert len(page.items) == 20

        async def together(read):
            await asyncio.gather(*(read(n) for n in range(CONCURRENT)))

        def many(read):
            return lambda: loop.run_until_complete(together(read))

        def once(read):
            return lambda: loop.run_until_complete(read())

        def threaded(n=0):
            return sync_to_async(timeline.page, thread_sensitive=False)(KEYS[n], limit=20)

        def get_bare(n=0):
            return get(n, bare_url, 0)

        def get_django(n=0):
            return get(n, django_url, 0)

        def get_two_workers(n=0):
            return get(n, page2_url)

        for read in (get, get_bare, get_django, get_two_workers, get_two_workers):
            many(read)()  # uvicorn's and the backend's connections (each worker's), opened before timing
        served, served_one = compare(many(get), once(get), runs)
        slept, slept_one = compare(many(get_bare), once(get_bare), runs)
        django_slept, django_one = compare(many(get_django), once(get_django), runs)
        two_workers, two_workers_one = compare(many(get_two_workers), once(get_two_workers), runs)
        awaited, awaited_one = compare(many(one), once(one), runs)
        cpu, awaited_again = compare(many(lambda n: one(n, at_once)), once(one), runs)
        pooled, single = compare(many(threaded), once(one), runs)
        for each in (timeline, at_once):
            loop.run_until_complete(each.backend.aclose())
        loop.run_until_complete(session.close())
    finally:
        loop.close()
        for process in (asgi, asgi2, bare, slow, fast):
            process.terminate()
            process.wait(timeout=30)
    sync_page, raw_read = _sync_page(config)
    return [
        ratio_row("20 async pages", f"uvicorn: {CONCURRENT} concurrent GET, Riak at +20 ms", "ms", served, served_one,
                  "one GET", limit=3, scale=1000),
        ratio_row("20 async pages", f"uvicorn: {CONCURRENT} concurrent GET of an app that sleeps 20 ms", "ms",
                  slept, slept_one, "one GET", scale=1000),
        ratio_row("20 async pages", f"uvicorn: {CONCURRENT} concurrent GET of a Django async view that sleeps 20 ms",
                  "ms", django_slept, django_one, "one GET", scale=1000),
        ratio_row("20 async pages", f"uvicorn --workers 2: {CONCURRENT} concurrent GET, Riak at +20 ms", "ms",
                  two_workers, two_workers_one, "one GET", scale=1000),
        ratio_row("20 async pages", f"{CONCURRENT} concurrent apage, Riak at +20 ms", "ms", awaited, awaited_one,
                  "one apage", limit=3, scale=1000),
        ratio_row("20 async pages", f"{CONCURRENT} concurrent apage, Riak at +0 ms (their CPU)", "ms", cpu,
                  awaited_again, "one apage at +20 ms", scale=1000),
        ratio_row("20 async pages", f"{CONCURRENT} concurrent page via sync_to_async", "ms", pooled, single,
                  "one apage", scale=1000),
        ratio_row("20 async pages", "sync page() of 20, Riak at +0 ms", "ms", sync_page, raw_read,
                  "one raw read of the key", scale=1000),
    ]


def compare(subject, floor, runs, settle=0.1):
    """Time ``subject`` and ``floor`` in alternation, each after ``settle`` s untimed.

    A burst of 100 requests leaves the server work to finish after its last answer
    (each request's thread ending): without the pause it lands on the next timing,
    the one-request floor most of all.
    """
    subject_times, floor_times = [], []
    for _ in range(runs):
        for function, times in ((subject, subject_times), (floor, floor_times)):
            time.sleep(settle)
            times.append(timed(function))
    return Stats.of(subject_times), Stats.of(floor_times)


async def _session(aiohttp, connections):
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections))


def _sync_page(config):
    """Return the sync page() of 20 and one raw read, on an in-process node (as the earlier runs measured)."""
    with RiakTestServer() as server:
        backend = RiakBackend(server.url, bucket=BUCKET, timeout=5.0)
        timeline = Timeline(backend, max_items=1000)
        timeline.add_many(KEYS[0], [(i, i, {"n": i}) for i in range(1000)])
        return measure.compare(lambda: timeline.page(KEYS[0], limit=20), lambda: backend.read(KEYS[0]),
                               config.runs * config.batch)
