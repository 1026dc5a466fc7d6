"""Case 17: pages that decode only what they serve, and PostgreSQL appends by COPY.

17a reads a page of 20 hydrated posts from a key holding 1,000 items (value layout
v2, the post table holding ``POSTS`` rows): the first page and the page at offset
980. Its floor is what any design must pay: one fetch of the key's stored bytes, then
the ORM's hydration query of the same 20 rows. Posts live in the default database;
on PostgreSQL the key is stored there and hydrated from the default database, in the
page and in its floor alike. The hydration query is the one ``hydrate`` runs (the
model's ``get_timeline_queryset``).

17b appends one post's change to every follower key on PostgreSQL
(``append_changes``, a binary COPY) against a bare COPY of the same rows.
"""

from django.db import connections
from django.test import override_settings

from django_timak import codecs
from django_timak.clock import default_clock
from django_timak.entries import Entry, order_live, position
from django_timak.handler import timelines
from django_timak.hydrate import hydrate
from django_timak.models import StoredTimeline, TimelineDelta
from django_timak.pagination import encode_cursor
from django_timak.refs import parse_ref
from tests.models import Post

from ..measure import Stats, compare, timed
from ..report import Row, ratio_row
from .append import keys, new_post
from .reads import ensure_users, grow

KEY = "partial:home"
ITEMS = 1000
DEEP = 980


def posts(config) -> int:
    return 1_000_000 if config.mode == "full" else 10_000


def stored_value(newest) -> bytes:
    """Return the v2 value a full home timeline holds: the newest posts with their data and actors."""
    field = Post.home_timeline
    clock = default_clock.now()
    found = [Entry(i, s, clock, d, False, a) for i, s, d, a in (field.item_with_actor(p) for p in newest)]
    return codecs.encode(order_live(found))


def hydration_queryset():
    """Return the queryset ``hydrate`` asks for posts (the model's own, when it names one)."""
    getter = getattr(Post, "get_timeline_queryset", None)
    return getter() if getter is not None else Post._default_manager.all()


def page_rows(alias, config):
    label = connections[alias].vendor
    newest = list(Post.objects.order_by("-created")[:ITEMS])
    StoredTimeline.objects.using(alias).filter(key=KEY).delete()
    StoredTimeline.objects.using(alias).create(key=KEY, value=stored_value(newest))
    setting = {"partial": {"BACKEND": "django_timak.backends.db.DatabaseBackend", "OPTIONS": {"USING": alias},
                           "MAX_ITEMS": ITEMS}}
    rows = []
    with override_settings(TIMAK_TIMELINES=setting):
        timeline = timelines["partial"]
        shown = timeline.get(KEY, raw=True)
        for offset in (0, DEEP):
            cursor = encode_cursor(shown[offset - 1]) if offset else None
            # In the timeline's own (score, id) order: other cases' posts may share a score.
            expected = [parse_ref(entry.id)[1] for entry in shown[offset : offset + 20]]
            batch = config.batch

            def subject():
                for _ in range(batch):
                    page = timeline.page(KEY, limit=20, cursor=cursor)
                    assert [row.pk for row in hydrate(page.entries)] == expected

            def floor():
                for _ in range(batch):
                    timeline.backend.read(KEY)
                    found = hydration_queryset().in_bulk(expected)
                    assert [found[pk].pk for pk in expected] == expected

            spent, least = compare(subject, floor, config.runs)
            limit = 1.3 if offset == 0 else 1.5
            rows.append(ratio_row("17 partial page", f"{label}, P={posts(config):,}, offset {offset}", "ms", spent, least,
                                  "key bytes + hydration", limit, 1000 / batch))
        assert position(shown[DEEP]) < position(shown[DEEP - 1])
    StoredTimeline.objects.using(alias).filter(key=KEY).delete()
    return rows


def copy_rows(raw_cursor, table, rows):
    with raw_cursor.copy(f'COPY {table} ("key", value) FROM STDIN (FORMAT BINARY)') as copy:
        copy.set_types(["varchar", "bytea"])
        for row in rows:
            copy.write_row(row)


def append_rows(alias, config):
    connection = connections[alias]
    followers = keys(config)
    table = connection.ops.quote_name(TimelineDelta._meta.db_table)
    setting = {alias: {"BACKEND": "django_timak.backends.db.DatabaseBackend", "OPTIONS": {"USING": alias},
                       "MAX_ITEMS": ITEMS, "COMPACT_ON_APPEND": 10**6}}
    with override_settings(TIMAK_TIMELINES=setting):
        timeline = timelines[alias]
        spent, floor = [], []
        for _ in range(max(config.fanout_runs, 5)):
            change = new_post()
            changes = {key: [Entry(*change)] for key in followers}
            spent.append(timed(lambda: timeline.append_changes(changes)))
            value = codecs.encode([change])

            def bare_copy():
                with connection.cursor() as cursor:
                    copy_rows(cursor.cursor, table, [(key, value) for key in followers])

            floor.append(timed(bare_copy))
            TimelineDelta.objects.using(alias).filter(key__startswith="follower:").delete()
    rate, floor_rate = Stats.of(spent).rate(len(followers)), Stats.of(floor).rate(len(followers))
    ratio = floor_rate.median / rate.median
    return [Row("17 COPY append", f"postgresql, {len(followers):,} keys", "keys/s", rate, floor_rate.median,
                "bare COPY", ratio, ">= 100,000/s, <= 2x", rate.median >= 100_000 and ratio <= 2)]


def run(config):
    ensure_users()
    grow(posts(config))
    rows = []
    for alias in connections:
        rows += page_rows(alias, config)
        if connections[alias].vendor == "postgresql":
            rows += append_rows(alias, config)
    return rows
