"""Case 8: fan-out by append, and a page read over unmerged appended values.

8a appends one post's change to every follower key (each holding 500 items) with
``Timeline.append_changes``, on each database. Its floor is the least any design
appending one row per key must pay: the same rows inserted by multi-row INSERTs
(as few as the database allows), with nothing computed. Every ``COMPACT_ON_APPEND``
appends, a key's append also compacts it (a read-merge-write of its whole value):
that append is timed on a sample of keys, and amortised over the others.

On Riak (the test server in its own process, 1 ms a request) the append is a PUT
without a vclock whose answer counts the siblings; its floor is a blind PUT of the
same bytes to every key over the same pool, as concurrent as the pool allows.

8b reads the first page of a full timeline whose key holds 16 appended values not
yet merged (both thresholds above 16, so nothing writes back), against the same
page of the same items compacted into one value: merging on read must stay cheap.
"""

import random
from concurrent.futures import ThreadPoolExecutor

from django.db import connections
from django.test import override_settings

from django_timak import codecs
from django_timak.backends.db import chunks, statement_params
from django_timak.clock import default_clock
from django_timak.conf import COMPACTION_OPTIONS
from django_timak.entries import Entry
from django_timak.handler import timelines
from django_timak.models import StoredTimeline, TimelineDelta

from ..items import entries, item, items
from ..measure import Stats, compare, timed
from ..report import Row, ratio_row
from ..riak_node import riak_node

COMPRESS = "zstd"
TIMELINE = {"MAX_ITEMS": 1000, "COMPRESS": COMPRESS}
#: Seconds the Riak test server adds to every request, and the client's pool.
LATENCY = 0.001
POOL_SIZE = 16
#: Keys whose compaction is timed (a sample: each is a full read-merge-write).
COMPACTED_KEYS = 200
PAGE_ITEMS = 1000
UNMERGED = 16
#: Thresholds that leave the 16 appended values unmerged, for 8b.
NEVER_COMPACT = {"COMPACT_ON_READ": UNMERGED + 2, "COMPACT_ON_APPEND": UNMERGED + 2}
_posts = iter(range(10**7, 10**8))


def keys(config):
    return [f"follower:{i}:home" for i in range(config.followers)]


def new_post() -> Entry:
    """Return one new post's change, stamped now, as fan-out appends it to every key."""
    pk = next(_posts)
    item_id, score, data = item(pk, random.Random(pk))
    return Entry(item_id, score, default_clock.now(), data)


def insert_rows(alias, rows) -> None:
    """Insert ``(key, value)`` rows into the appended-values table in as few statements as allowed."""
    connection = connections[alias]
    table = connection.ops.quote_name(TimelineDelta._meta.db_table)
    params = [param for row in rows for param in row]
    limit = statement_params(connection)
    with connection.cursor() as cursor:
        for chunk in chunks(params, limit - limit % 2):
            cursor.execute(f'INSERT INTO {table} ("key", value) VALUES {", ".join(["(%s, %s)"] * (len(chunk) // 2))}', chunk)


def fan_out_rows(alias, config):
    """Rows of 8a for one database: the append, its floor, and the compaction it implies."""
    label = connections[alias].vendor
    base = codecs.encode(entries(config.followed_items), COMPRESS)
    followers = keys(config)
    StoredTimeline.objects.using(alias).bulk_create([StoredTimeline(key=key, value=base) for key in followers], batch_size=500)
    setting = {alias: {"BACKEND": "django_timak.backends.db.DatabaseBackend", "OPTIONS": {"USING": alias}, **TIMELINE}}
    with override_settings(TIMAK_TIMELINES=setting):
        timeline = timelines[alias]
        spent, floor = [], []
        for _ in range(config.fanout_runs):
            change = new_post()
            # One list of its own per key, as operations.write builds them; the data is shared.
            changes = {key: [Entry(*change)] for key in followers}
            spent.append(timed(lambda: timeline.append_changes(changes)))
            value = codecs.encode([change])
            floor.append(timed(lambda: insert_rows(alias, [(key, value) for key in followers])))
            TimelineDelta.objects.using(alias).filter(value=value).delete()
        rate, floor_rate = Stats.of(spent).rate(len(followers)), Stats.of(floor).rate(len(followers))
        ratio = floor_rate.median / rate.median
        met = rate.median >= 50_000 and ratio <= 3
        rows = [Row("8 append", f"{label}, {len(followers):,} keys", "keys/s", rate, floor_rate.median,
                    "multi-row INSERT", ratio, ">= 50,000/s, <= 3x", met)]
        rows += compaction_rows(timeline, followers[:COMPACTED_KEYS], label, rate)
    StoredTimeline.objects.using(alias).filter(key__startswith="follower:").delete()
    TimelineDelta.objects.using(alias).filter(key__startswith="follower:").delete()
    return rows


def compaction_rows(timeline, sample, label, append_rate: Stats):
    """Time the append that leaves keys with COMPACT_ON_APPEND values (so compacts them); amortise it."""
    every = COMPACTION_OPTIONS["COMPACT_ON_APPEND"].default
    while len(timeline.backend.read(sample[0]).values) < every - 1:
        timeline.backend.append_many(dict.fromkeys(sample, codecs.encode([new_post()])))
    change = new_post()
    changes = {key: [Entry(*change)] for key in sample}
    compaction = Stats.of([timed(lambda: timeline.append_changes(changes))]).rate(len(sample))
    assert len(timeline.backend.read(sample[0]).values) == 1
    amortised = Stats.of([every / ((every - 1) / append_rate.median + 1 / compaction.median)])
    return [
        Row("8 append", f"{label}, compacting append", "keys/s", compaction),
        Row("8 append", f"{label}, amortised over {every}", "keys/s", amortised),
    ]


def page_rows(config):
    """Rows of 8b: a page over 16 unmerged appended values against the same page compacted."""
    rows = []
    for alias, label in (("memory", "memory"), ("default", connections["default"].vendor)):
        setting = {
            "unmerged": {"BACKEND": backend_path(alias), "OPTIONS": options(alias), **TIMELINE, **NEVER_COMPACT},
            "compacted": {"BACKEND": backend_path(alias), "OPTIONS": options(alias), **TIMELINE},
        }
        with override_settings(TIMAK_TIMELINES=setting):
            unmerged, compacted = timelines["unmerged"], timelines["compacted"]
            news = items(UNMERGED, start=PAGE_ITEMS)
            for key, timeline in (("page:unmerged", unmerged), ("page:compacted", compacted)):
                timeline.add_many(key, items(PAGE_ITEMS))
            for n, (item_id, score, data) in enumerate(news, start=1):
                change = {"page:unmerged": [Entry(item_id, score, n + 2**60, data)]}
                unmerged.append_changes(change)
                compacted.replay("page:compacted", change["page:unmerged"])
            assert len(unmerged.backend.read("page:unmerged").values) == UNMERGED + 1
            assert unmerged.page("page:unmerged").items == compacted.page("page:compacted").items
            batch = config.batch

            def subject():
                for _ in range(batch):
                    unmerged.page("page:unmerged")

            def floor():
                for _ in range(batch):
                    compacted.page("page:compacted")

            spent, least = compare(subject, floor, config.runs)
            rows.append(ratio_row("8 append", f"{label}, page, {UNMERGED} appended", "ms", spent, least,
                                  "compacted page", 1.5, 1000 / batch))
            unmerged.clear("page:unmerged")
            compacted.clear("page:compacted")
    return rows


def backend_path(alias):
    if alias == "memory":
        return "django_timak.backends.memory.MemoryBackend"
    return "django_timak.backends.db.DatabaseBackend"


def options(alias):
    return {} if alias == "memory" else {"USING": alias}


def riak_rows(config):
    """Rows of 8a for Riak: the append of one post to every key against blind PUTs of the same bytes."""
    base = codecs.encode(entries(config.followed_items), COMPRESS)
    followers = keys(config)
    with riak_node(LATENCY) as url:
        setting = {"riak": {"BACKEND": "django_timak.backends.riak.RiakBackend",
                            "OPTIONS": {"URL": url, "POOL_SIZE": POOL_SIZE}, **TIMELINE}}
        with override_settings(TIMAK_TIMELINES=setting):
            timeline = timelines["riak"]
            backend = timeline.backend
            with ThreadPoolExecutor(POOL_SIZE) as pool:
                list(pool.map(lambda key: backend.write(key, base, None), followers))
                spent, floor = [], []
                for _ in range(config.fanout_runs):
                    change = new_post()
                    changes = {key: [Entry(*change)] for key in followers}
                    spent.append(timed(lambda: timeline.append_changes(changes)))
                    value = codecs.encode([change])
                    floor.append(timed(lambda: list(pool.map(lambda key: backend.write(key, value, None), followers))))
    rate, floor_rate = Stats.of(spent).rate(len(followers)), Stats.of(floor).rate(len(followers))
    share = rate.median / floor_rate.median
    return [Row("8 append", f"riak 1 ms, {len(followers):,} keys", "keys/s", rate, floor_rate.median,
                "blind PUT, same pool", floor_rate.median / rate.median, ">= 80% of floor", share >= 0.8)]


def run(config):
    rows = []
    for alias in connections:
        rows += fan_out_rows(alias, config)
    return rows + riak_rows(config) + page_rows(config)
