"""Case 16: posts saved through the ORM and fanned out inline, as a request does.

16a: ``fanout.batched()`` of ten posts against the same ten posts saved one by one,
in keys per second (each post's follower keys, plus its author's own): batching must
be at least as fast per key. Every run starts from the same state (appended values
removed), so neither side pays for the other's compactions.

16b: one post by an author with the mean audience of the issue's graph (138
followers), saved in a transaction and fanned out inline after commit, against the
same row inserted without timelines (``bulk_create``, which sends no signal). The
mean is the target (every ``COMPACT_ON_APPEND``-th post compacts all the keys it
fills), so the row shows it; the median is in its own row.
"""

import statistics

from django.db import transaction

from django_timak import fanout
from django_timak.models import StoredTimeline, TimelineDelta

from ..measure import Stats, timed
from ..report import Row, ratio_row
from tests.models import Follow, Post, User

POSTS = 10
MEAN_AUDIENCE = 138


def author_with_followers(name: str, count: int) -> User:
    author = User.objects.create(username=f"{name}-author")
    followers = User.objects.bulk_create([User(username=f"{name}-{i}") for i in range(count)], batch_size=2000)
    Follow.objects.bulk_create([Follow(follower=f, followee=author) for f in followers], batch_size=2000)
    return author


def _clear():
    StoredTimeline.objects.filter(key__startswith="user:").delete()
    TimelineDelta.objects.filter(key__startswith="user:").delete()


def batched_rows(config):
    author = author_with_followers("batched", config.followers)
    keys = POSTS * (config.followers + 1)  # each post: its followers' home keys and its author's own

    def inline():
        for n in range(POSTS):
            Post.objects.create(author=author, body=f"inline {n}")

    def batched():
        with fanout.batched():
            for n in range(POSTS):
                Post.objects.create(author=author, body=f"batched {n}")

    spent = {"inline": [], "batched": []}
    for _ in range(max(config.fanout_runs, 3)):
        for name, fn in (("inline", inline), ("batched", batched)):
            _clear()
            spent[name].append(timed(fn))
    _clear()
    inline_rate, batched_rate = (Stats.of(spent[name]).rate(keys) for name in ("inline", "batched"))
    ratio = inline_rate.median / batched_rate.median
    return [
        Row("16 batched posts", f"{POSTS} posts to {config.followers:,} followers", "keys/s", batched_rate,
            inline_rate.median, f"{POSTS} inline posts", ratio, ">= floor", ratio <= 1),
    ]


def inline_post_rows(config):
    author = author_with_followers("mean-audience", MEAN_AUDIENCE)
    runs = max(config.runs * 8, 48)  # a few compactions (one post in COMPACT_ON_APPEND) in the mean

    def save():
        with transaction.atomic():
            Post.objects.create(author=author, body="inline post")

    def floor():
        with transaction.atomic():
            Post.objects.bulk_create([Post(author=author, body="no timelines")])

    _clear()
    subject, base = [], []
    for _ in range(runs):
        subject.append(timed(save))
        base.append(timed(floor))
    _clear()
    mean = statistics.mean(subject)
    floor_mean = statistics.mean(base)
    median = Stats.of(subject)
    rows = [
        Row("16 inline post", f"{MEAN_AUDIENCE} followers, mean", "ms", Stats(mean * 1000, mean * 1000, mean * 1000, runs),
            floor_mean * 1000, "save without timelines", mean / floor_mean, "<= 5x", mean / floor_mean <= 5),
        ratio_row("16 inline post", f"{MEAN_AUDIENCE} followers, median", "ms", median, Stats.of(base),
                  "save without timelines", scale=1000),
    ]
    return rows


def run(config):
    return batched_rows(config) + inline_post_rows(config)
