"""Case 10: ``rebuild_timelines`` over a follow graph: every post to its author's followers.

Two graphs, drawn with Zipf-like weights (a few authors are followed by nearly
everyone), posts by random authors, rebuilt at the default settings:

* 10,000 users who follow 130 others each (1.3M follows) and 10,000 posts: posts per
  second against the command before fan-out appended (it read, merged and wrote back
  every key of each batch, and asked for recipients once per row). That one cannot
  run beside this code, so its rates are constants, measured with commit a06880d on
  this machine: 300 s for the full sizes (the fastest of the 5 to 6.5 minutes the
  fan-out issue reports), 18 s for the quick ones. The target is 10x.
* The rebuild issue's size: 10,000 users who follow 134 others (1.34M follows) and
  1,000,000 posts, in a child process of its own: its time (target: under 10
  minutes) and its peak resident memory (``ru_maxrss``), whose floor is the same
  child's peak on the first graph: memory must stay flat in the table's size.

``--quick`` draws 1,000 users who follow 30 others, with 1,000 and then 20,000 posts.
"""

import json
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from itertools import accumulate, islice
from pathlib import Path

from django.core.management import call_command
from django.db import connection

from django_timak.handler import timelines
from django_timak.models import StoredTimeline, TimelineDelta

from ..measure import Stats, timed
from ..report import Row
from tests.models import Follow, Post, User

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
#: Posts per second of the command before appends, at (users, follows each, posts).
BEFORE = {(10_000, 130, 10_000): 10_000 / 300, (1_000, 30, 1_000): 1_000 / 18.0}
#: The rebuild issue's graph (users, follows each, posts) per run mode, and its time limit in seconds.
ISSUE = {"full": (10_000, 134, 1_000_000), "quick": (1_000, 30, 20_000)}
LIMIT = 600
#: Rows inserted per bulk_create call while drawing a graph.
INSERTS = 50_000

#: Run in the child: rebuild from empty timelines, print the seconds and the peak RSS in bytes.
CHILD = """
import json, resource, sys, time
from django.conf import settings
settings.DATABASES["default"]["NAME"] = sys.argv[1]
import django
django.setup()
from django.core.management import call_command
started = time.perf_counter()
call_command("rebuild_timelines", "tests.Post", verbosity=0)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def followees(index: int, count: int, cumulative: list[float], rng) -> set[int]:
    """Return ``count`` users that user ``index`` follows, low indexes weighing most."""
    users = range(len(cumulative))
    chosen = set()
    while len(chosen) < count:
        chosen.update(j for j in rng.choices(users, cum_weights=cumulative, k=count - len(chosen)) if j != index)
    return chosen


def insert(model, rows) -> None:
    """Insert ``rows`` (an iterable of unsaved instances) in bulk_create calls of INSERTS rows."""
    rows = iter(rows)
    while chunk := list(islice(rows, INSERTS)):
        model.objects.bulk_create(chunk, batch_size=INSERTS)


def build(users: int, follows: int, posts: int) -> None:
    """Replace the database's follows and posts with the graph's (no signals: bulk inserts); draw users once."""
    with connection.cursor() as cursor:
        for model in (Post, Follow):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    made = list(User.objects.filter(username__startswith="graph").order_by("pk"))
    if len(made) != users:
        User.objects.filter(username__startswith="graph").delete()
        made = User.objects.bulk_create([User(username=f"graph{i}") for i in range(users)], batch_size=2000)
    ids = [user.pk for user in made]
    rng = random.Random(1)
    cumulative = list(accumulate(1 / (j + 1) ** 1.2 for j in range(users)))
    insert(Follow, (Follow(follower_id=ids[i], followee_id=ids[j]) for i in range(users) for j in followees(i, follows, cumulative, rng)))
    insert(Post, (Post(author_id=ids[rng.randrange(users)], created=START + timedelta(minutes=n), body=f"post {n}") for n in range(posts)))


def empty() -> None:
    StoredTimeline.objects.all().delete()
    TimelineDelta.objects.all().delete()
    timelines["memory"].backend.clear()


def rebuild() -> None:
    empty()
    call_command("rebuild_timelines", "tests.Post", verbosity=0)


def in_child() -> tuple[float, float]:
    """Return (seconds, peak MiB) of a rebuild from empty timelines in a fresh process."""
    empty()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "benchmarks.settings"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(connection.settings_dict["NAME"])],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return found["seconds"], found["peak"] / 2**20


def variant(users, follows, posts) -> str:
    return f"{posts:,} posts, {users:,} users, {users * follows / 1e6:.3g}M follows"


def run(config):
    sizes = (config.graph_users, config.graph_follows, config.graph_posts)
    build(*sizes)
    rate = Stats.of([config.graph_posts / timed(rebuild)])
    speedup = rate.median / BEFORE[sizes]
    _, floor_peak = in_child()
    issue = ISSUE[config.mode]
    build(*issue)
    seconds, peak = in_child()
    ratio = peak / floor_peak
    return [
        Row("10 rebuild graph", variant(*sizes), "posts/s", rate, BEFORE[sizes], "before appends", speedup, ">= 10x", speedup >= 10),
        Row("10 rebuild graph", variant(*issue), "s", Stats.of([seconds]), LIMIT, "10 minutes", seconds / LIMIT,
            "< 10 min", seconds < LIMIT),
        Row("10 rebuild graph peak", variant(*issue), "MiB", Stats.of([peak]), floor_peak, f"at {sizes[2]:,} posts",
            ratio, "<= 1.5x", ratio <= 1.5),
    ]
