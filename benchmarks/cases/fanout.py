"""Case 5: fan-out of one new row to many follower timelines, each already full-ish.

The fan-out is ``operations.apply_operations`` (what a save runs after commit: one
small value appended per key, nothing read), and the same in batches of
``BATCH_SIZE`` keys, as ``rebuild_timelines`` and background tasks apply them. The
floor of a database is the same number of rows inserted by multi-row INSERTs (case
8's floor); for Riak it is a blind PUT of the same bytes per key over the same pool
(``WORKERS`` at a time), the least an append can cost there.
"""

import random
from concurrent.futures import ThreadPoolExecutor

from django.db import connections
from django.test import override_settings

from django_timak import codecs
from django_timak.conf import FANOUT_DEFAULTS
from django_timak.clock import default_clock
from django_timak.handler import timelines
from django_timak.models import StoredTimeline, TimelineDelta
from django_timak.operations import ADD, Operation, apply_operations, batches

from ..items import entries, item
from ..measure import Stats, timed
from ..report import Row
from ..riak_node import riak_node
from .append import insert_rows

COMPRESS = "zstd"
TIMELINE = {"MAX_ITEMS": 1000, "COMPRESS": COMPRESS}
LATENCY = 0.001
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


def database_rows(alias, config):
    """Rows for one database: appends of one post to every key, at once and in batches, and the floor."""
    value = stored_value(config)
    StoredTimeline.objects.using(alias).bulk_create(
        [StoredTimeline(key=key, value=value) for key in keys(config)], batch_size=500
    )
    label = connections[alias].vendor
    timelines_config = {alias: {"BACKEND": "django_timak.backends.db.DatabaseBackend",
                                "OPTIONS": {"USING": alias}, **TIMELINE}}
    rows = []
    with override_settings(TIMAK_TIMELINES=timelines_config):
        for name, apply in (
            ("all keys at once", lambda ops: apply_operations(ops, 1)),
            ("batches of 500", _batched),
        ):
            spent, floor = [], []
            for _ in range(config.fanout_runs):
                spent.append(_fan_out(apply, alias, config))
                appended = codecs.encode([operations(alias, config)[0].entry()])
                floor.append(timed(lambda: insert_rows(alias, [(key, appended) for key in keys(config)])))
            rate, floor_rate = Stats.of(spent).rate(config.followers), Stats.of(floor).rate(config.followers)
            ratio = floor_rate.median / rate.median
            rows.append(Row("5 fan-out", f"{label}, {name}", "keys/s", rate, floor_rate.median,
                            "multi-row INSERT", ratio, ">= 50,000/s, <= 3x", rate.median >= 50_000 and ratio <= 3))
    StoredTimeline.objects.using(alias).filter(key__startswith="follower:").delete()
    TimelineDelta.objects.using(alias).filter(key__startswith="follower:").delete()
    return rows


def _batched(ops):
    """Apply ``ops`` as rebuild_timelines does: a batch of keys at a time."""
    size = FANOUT_DEFAULTS["BATCH_SIZE"]
    return [failure for batch in batches(ops, size) for failure in apply_operations(batch, 1)]


def _fan_out(apply, alias, config):
    ops = operations(alias, config)
    return timed(lambda: _check(apply(ops)))


def _check(failures):
    if failures:
        raise RuntimeError(f"{len(failures)} fan-out writes failed: {failures[0][1]}")


def riak_rows(config):
    """Rows for Riak with 1 ms per request: appends over the pool against blind PUTs of the same bytes."""
    value = stored_value(config)
    workers = FANOUT_DEFAULTS["WORKERS"]
    with riak_node(LATENCY) as url:
        timelines_config = {"riak": {"BACKEND": "django_timak.backends.riak.RiakBackend",
                                     "OPTIONS": {"URL": url, "POOL_SIZE": 16}, **TIMELINE}}
        with override_settings(TIMAK_TIMELINES=timelines_config):
            backend = timelines["riak"].backend
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda key: backend.write(key, value, None), keys(config)))
            spent, floor = [], []
            for _ in range(config.fanout_runs):
                ops = operations("riak", config)
                spent.append(timed(lambda: _check(apply_operations(ops, workers))))
                appended = codecs.encode([ops[0].entry()])
                floor.append(timed(lambda: _blind_puts(backend, keys(config), appended, workers)))
    rate, floor_rate = Stats.of(spent).rate(config.followers), Stats.of(floor).rate(config.followers)
    share = rate.median / floor_rate.median
    return [
        Row("5 fan-out", f"riak 1 ms, pool of {workers}", "keys/s", rate, floor_rate.median, "blind PUT, same pool",
            floor_rate.median / rate.median, ">= 80% of floor", share >= 0.8),
    ]


def _blind_puts(backend, keys, value, workers):
    """PUT ``value`` to every key without a vclock, ``workers`` at a time."""
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda chunk: [backend.append(key, value) for key in chunk], _split(keys, workers)))


def _split(keys, count):
    size = -(-len(keys) // count)
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def run(config):
    rows = []
    for alias in connections:
        rows += database_rows(alias, config)
    return rows + riak_rows(config)
