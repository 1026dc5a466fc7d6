"""Case 7: ``rebuild_timelines`` over every post: rows per second and peak memory.

Each run starts from empty timelines. Peak memory is what Python allocated at most
during the command (tracemalloc), in a run of its own since tracing slows
everything; rows per second come from an untraced run. The floor of the largest run's peak is the smallest run's peak: the
command works in batches, so its memory should not grow with the table.
"""

import tracemalloc

from django.core.management import call_command
from django.db import connection

from django_timak.handler import timelines
from django_timak.models import StoredTimeline, TimelineDelta

from ..measure import Stats, timed
from ..report import Row
from tests.models import Post

from .reads import ensure_users, grow


def rebuild():
    """Rebuild from empty timelines, so every run writes every item."""
    StoredTimeline.objects.all().delete()
    TimelineDelta.objects.all().delete()
    timelines["memory"].backend.clear()
    call_command("rebuild_timelines", "tests.Post", verbosity=0)


def peak_bytes() -> int:
    tracemalloc.start()
    try:
        rebuild()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(config):
    ensure_users()
    with connection.cursor() as cursor:  # no signals: the timelines are rebuilt anyway
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(Post._meta.db_table)}")
    measured = []
    for total in config.rebuild_posts:
        grow(total)
        seconds = timed(rebuild)
        measured.append((total, Stats.of([total / seconds]), peak_bytes() / 2**20))
    smallest, _, floor_peak = measured[0]
    rows = []
    for total, rate, peak in measured:
        rows.append(Row("7 rebuild", f"{total:,} posts", "rows/s", rate))
        ratio = peak / floor_peak
        rows.append(Row("7 rebuild peak", f"{total:,} posts", "MiB", Stats.of([peak]), floor_peak,
                        f"{smallest:,} posts", ratio, "<= 1.5x", ratio <= 1.5))
    return rows
