"""Case 10: ``rebuild_timelines`` over a follow graph: every post to its author's followers.

The full run has 10,000 users who follow 130 others each (1.3M follows, drawn with
Zipf-like weights, so a few authors are followed by nearly everyone) and 10,000
posts by random authors: about 1.3M items for the home timelines, at the default
batch size. The floor is the same command before fan-out appended (it read, merged
and wrote back every key of each batch, and asked for recipients once per row): it
cannot run beside this code, so its rates are constants, measured with commit
a06880d on this machine: 300 s for the full sizes (the fastest of the 5 to 6.5
minutes the fan-out issue reports), 18 s for the quick ones. The target is 10x.
"""

import random
from datetime import datetime, timedelta, timezone

from django.core.management import call_command
from django.db import connection

from django_timak.handler import timelines
from django_timak.models import StoredTimeline, TimelineDelta

from ..measure import Stats, timed
from ..report import Row
from tests.models import Follow, Post, User

START = datetime(2024, 1, 1, tzinfo=timezone.utc)
#: Posts per second of the command before appends, at (users, follows each, posts).
BEFORE = {(10_000, 130, 10_000): 10_000 / 300, (1_000, 30, 1_000): 1_000 / 18.0}


def followees(index: int, users: int, count: int, rng) -> set[int]:
    """Return ``count`` users that user ``index`` follows, low indexes weighing most."""
    weights = [1 / (j + 1) ** 1.2 for j in range(users)]
    chosen = set()
    while len(chosen) < count:
        chosen.update(j for j in rng.choices(range(users), weights, k=count - len(chosen)) if j != index)
    return chosen


def build(users: int, follows: int, posts: int) -> None:
    """Replace the database's users, follows and posts with the graph (no signals: bulk inserts)."""
    with connection.cursor() as cursor:
        for model in (Post, Follow):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    made = User.objects.bulk_create([User(username=f"graph{i}") for i in range(users)], batch_size=2000)
    rng = random.Random(1)
    Follow.objects.bulk_create(
        (Follow(follower=made[i], followee=made[j]) for i in range(users) for j in followees(i, users, follows, rng)),
        batch_size=5000,
    )
    Post.objects.bulk_create(
        [Post(author=made[rng.randrange(users)], created=START + timedelta(minutes=n), body=f"post {n}") for n in range(posts)],
        batch_size=2000,
    )


def rebuild() -> None:
    StoredTimeline.objects.all().delete()
    TimelineDelta.objects.all().delete()
    timelines["memory"].backend.clear()
    call_command("rebuild_timelines", "tests.Post", verbosity=0)


def run(config):
    sizes = (config.graph_users, config.graph_follows, config.graph_posts)
    build(*sizes)
    rate = Stats.of([config.graph_posts / timed(rebuild)])
    speedup = rate.median / BEFORE[sizes]
    variant = f"{sizes[2]:,} posts, {sizes[0]:,} users, {sizes[0] * sizes[1]:,} follows"
    return [
        Row("10 rebuild graph", variant, "posts/s", rate, BEFORE[sizes], "before appends", speedup, ">= 10x", speedup >= 10),
    ]
