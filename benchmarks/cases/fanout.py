"""Case 5: fan-out of one new row to many follower timelines, each already full-ish.

The fan-out is ``operations.apply_operations`` (what a save runs after commit, one write
per key), and ``fanout.run`` (the same in batches of ``BATCH_SIZE`` keys, as
``rebuild_timelines`` and background tasks apply them). The floor is the store's
own round trip: reading each key and writing the same bytes back. For Riak, the
pool's speed-up is bounded by the GIL: every key's decode, merge, encode and HTTP
work runs one thread at a time, so the bound is the sequential wall time per key
over the client's CPU time per key.
"""

import random
import time
from concurrent.futures import ThreadPoolExecutor

from django.db import connections
from django.test import override_settings

from django_timak import codecs, fanout
from django_timak.conf import FANOUT_DEFAULTS
from django_timak.clock import default_clock
from django_timak.handler import timelines
from django_timak.models import StoredTimeline
from django_timak.operations import ADD, Operation, apply_operations

from ..items import entries, item
from ..measure import Stats, timed
from ..report import Row
from ..riak_node import riak_node

COMPRESS = "zstd"
TIMELINE = {"MAX_ITEMS": 1000, "COMPRESS": COMPRESS}
LATENCY = 0.001
#: Keys whose raw round trip gives the floor (the rate is per key).
FLOOR_KEYS = 500
_posts = iter(range(10**7, 10**8))


def keys(config):
    return [f"follower:{i}:home" for i in range(config.followers)]


def operations(alias, config):
    """Return the fan-out of one new post: one add per follower key."""
    pk = next(_posts)
    item_id, score, data = item(pk, random.Random(pk))
    modified = default_clock.now()
    return [Operation(alias, key, ADD, item_id, score, data, modified) for key in keys(config)]


def stored_value(config) -> bytes:
    return codecs.encode(entries(config.followed_items), COMPRESS)


def raw_round_trips(backend, sample) -> float:
    """Return seconds for reading and writing back, unchanged, each key of ``sample``."""
    def trips():
        for key in sample:
            found = backend.read(key)
            backend.write(key, found.values[0], found.token)

    return timed(trips)


def database_rows(alias, config):
    """Rows for one database: one write per key, batched, and the floor."""
    value = stored_value(config)
    StoredTimeline.objects.using(alias).bulk_create(
        [StoredTimeline(key=key, value=value) for key in keys(config)], batch_size=500
    )
    label = connections[alias].vendor
    timelines_config = {alias: {"BACKEND": "django_timak.backends.db.DatabaseBackend",
                                "OPTIONS": {"USING": alias}, **TIMELINE}}
    rows = []
    with override_settings(TIMAK_TIMELINES=timelines_config):
        sample = keys(config)[:FLOOR_KEYS]
        floor = Stats.of([raw_round_trips(timelines[alias].backend, sample) for _ in range(config.runs)])
        floor_rate = floor.rate(len(sample))
        for name, apply in (
            ("one write per key", lambda ops: apply_operations(ops, 1)),
            ("batches of 500", _batched),
        ):
            spent = Stats.of([_fan_out(apply, alias, config) for _ in range(config.fanout_runs)])
            rate = spent.rate(config.followers)
            rows.append(Row("5 fan-out", f"{label}, {name}", "keys/s", rate, floor_rate.median,
                            "read + write back", floor_rate.median / rate.median))
    StoredTimeline.objects.using(alias).filter(key__startswith="follower:").delete()
    return rows


def _batched(ops):
    """Apply ``ops`` as rebuild_timelines does: a batch of keys at a time."""
    size = FANOUT_DEFAULTS["BATCH_SIZE"]
    return [failure for batch in fanout.batches(ops, size) for failure in apply_operations(batch, 1)]


def _fan_out(apply, alias, config):
    ops = operations(alias, config)
    return timed(lambda: _check(apply(ops)))


def _check(failures):
    if failures:
        raise RuntimeError(f"{len(failures)} fan-out writes failed: {failures[0][1]}")


def riak_rows(config):
    """Rows for Riak with 1 ms per request: sequential, the pool, and the pool's speed-up."""
    value = stored_value(config)
    with riak_node(LATENCY) as url:
        timelines_config = {"riak": {"BACKEND": "django_timak.backends.riak.RiakBackend",
                                     "OPTIONS": {"URL": url, "POOL_SIZE": 16}, **TIMELINE}}
        with override_settings(TIMAK_TIMELINES=timelines_config):
            backend = timelines["riak"].backend
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda key: backend.write(key, value, None), keys(config)))
            floor = Stats.of([raw_round_trips(backend, keys(config)[:FLOOR_KEYS]) for _ in range(config.runs)])
            floor_rate = floor.rate(FLOOR_KEYS)
            sequential, cpu = [], []
            for _ in range(config.fanout_runs):
                ops = operations("riak", config)
                started = time.process_time()
                sequential.append(timed(lambda: _check(apply_operations(ops, 1))))
                cpu.append(time.process_time() - started)
            workers = FANOUT_DEFAULTS["WORKERS"]
            pooled = [_fan_out(lambda ops: apply_operations(ops, workers), "riak", config)
                      for _ in range(config.fanout_runs)]
    sequential, pooled, cpu = Stats.of(sequential), Stats.of(pooled), Stats.of(cpu)
    seq_rate, pool_rate = sequential.rate(config.followers), pooled.rate(config.followers)
    speedup = sequential.median / pooled.median
    bound = sequential.median / cpu.median
    return [
        Row("5 fan-out", "riak 1 ms, sequential", "keys/s", seq_rate, floor_rate.median, "GET + PUT back",
            floor_rate.median / seq_rate.median),
        Row("5 fan-out", f"riak 1 ms, pool of {workers}", "keys/s", pool_rate, floor_rate.median, "GET + PUT back",
            floor_rate.median / pool_rate.median),
        Row("5 fan-out", "riak pool speed-up", "x", Stats.of([speedup]), bound, "GIL bound", speedup,
            ">= 8x", speedup >= 8),
    ]


def run(config):
    rows = []
    for alias in connections:
        rows += database_rows(alias, config)
    return rows + riak_rows(config)
