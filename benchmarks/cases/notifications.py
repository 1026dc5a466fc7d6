"""Case 13: notification feeds. One more actor in a group, and the unread count.

13a adds one like (a new actor) to one group of a feed of 200 groups of 5 actors,
with ``Timeline.append_changes`` as fan-out does: one small value appended beside
the feed. Its floor is the store's own append of the same bytes to another key.
Every ``COMPACT_ON_APPEND`` appends the feed is also merged and written back; that
append is timed apart ("that compacts"), like case 8's.
13b counts a reader's unread and unseen items (10 of the 200 groups are newer than
the marks) with ``notifications.unread_count``: one read of the feed and the marks,
decoding only the entries above the marks. Its floor is ``Timeline.page`` of the
same feed's first 20 items: the count must cost at most a third of it.
The memory backend's append is a list append in this process: no store's floor,
so its 13a row has no target; it shows what encoding the change costs.
"""

from dataclasses import replace

from django.db import connections
from django.test import override_settings

from django_timak import codecs, groups, notifications
from django_timak.clock import default_clock
from django_timak.entries import Entry
from django_timak.handler import timelines

from ..measure import compare, repeat
from ..report import ratio_row

#: Stored as case 8 stores timelines: zstd, so a read moves a few KB, not the 100 KB of JSON.
TIMELINE = {"MAX_ITEMS": 1000, "COMPRESS": "zstd"}
GROUPS = 200
ACTORS = 5
UNREAD = 10
FEED = "reader:notifications"
FLOOR_KEY = "reader:floor"
START = 1_700_000_000_000


def like(group: int, member: int, score: int) -> Entry:
    """Return the change fan-out appends for one like of post ``group``."""
    info = {"target": f"social.post:{group}", "data": None}
    return Entry(f"like:{group}", score, default_clock.now(), groups.change(f"social.like:{member}", f"social.user:{member}", info))


def fill(alias: str) -> None:
    """Store a feed of GROUPS groups of ACTORS actors, merged into one value, and marks below the newest UNREAD."""
    timeline = timelines[alias]
    changes = [like(g, g * ACTORS + a, START + g * 1000 + a) for g in range(GROUPS) for a in range(ACTORS)]
    timeline.clear(FEED)
    timeline.add_many(FEED, [(c.id, c.score, c.data) for c in changes])
    mark = START + (GROUPS - UNREAD) * 1000
    notifications.mark_seen(alias, FEED, mark)
    notifications.mark_read(alias, FEED, up_to=mark)


def rows_for(alias: str, label: str, config) -> list:
    timeline = timelines[alias]
    fill(alias)
    members = iter(range(10**6, 10**7))
    runs = config.runs * config.batch

    def add_actor():
        member = next(members)
        timeline.append_changes({FEED: [like(GROUPS // 2, member, START + 10**6 + member)]})

    def append_until_one_short_of_compaction():
        while len(timeline.backend.read(FEED).values) < timeline.compact_on_append - 1:
            add_actor()

    value = codecs.encode([like(GROUPS // 2, 0, START)])
    added, floor = compare(add_actor, lambda: timeline.backend.append(FLOOR_KEY, value), runs)
    compacting = repeat(add_actor, config.runs, setup=append_until_one_short_of_compaction)
    fill(alias)
    counted, page = compare(lambda: notifications.unread_count(alias, FEED), lambda: timeline.page(FEED, limit=20), runs)
    assert notifications.unread_count(alias, FEED) == notifications.Unread(UNREAD, UNREAD)
    return [
        ratio_row("13 group add", f"{label}, 1 actor into a feed of {GROUPS} groups", "ms", added, floor,
                  "append of the same bytes", limit=None if alias == "memory" else 2, scale=1000),
        ratio_row("13 group add", f"{label}, the append that compacts (1 in 16)", "ms", compacting, floor,
                  "append of the same bytes", scale=1000),
        replace(ratio_row("13 unread count", f"{label}, {UNREAD} of {GROUPS} groups unread", "ms", counted, page,
                          "first page of 20", limit=1 / 3, scale=1000), target="<= 1/3x"),
    ]


def run(config):
    rows = []
    for alias in ["memory", *connections]:
        if alias == "memory":
            setting = {alias: {"BACKEND": "django_timak.backends.memory.MemoryBackend", **TIMELINE}}
            label = "memory"
        else:
            setting = {alias: {"BACKEND": "django_timak.backends.db.DatabaseBackend", "OPTIONS": {"USING": alias},
                               **TIMELINE}}
            label = connections[alias].vendor
        with override_settings(TIMAK_TIMELINES=setting):
            rows += rows_for(alias, label, config)
    return rows
