"""Case 12: hybrid fan-out. A pulled author's post, and a home page that merges pulled sources.

A post by a pulled author is written to the author's own key only, so its cost must
not grow with the audience: the floor is the same post by a pulled author with 10
followers (the rule counts followers only up to the threshold, so it is bounded too).
A home page read the way ``{% timeline %}`` reads it (one read of every key, then one
query per model) merging the reader's key and 10 pulled authors' keys is measured
against the same read of the reader's key alone, with the same number of queries.
The sources are popular authors' keys, read by every follower's page until they
change, so a process decodes each value once; the row "none decoded before" shows
the price of a page whose sources all changed since the last read.
"""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from django_timak.handler import timelines
from django_timak.pull import PullAbove
from django_timak.templatetags.timak import timeline as timeline_tag
from django_timak.pages import source_view
from tests.models import Follow, Post, User

from ..measure import compare
from ..report import ratio_row

#: Authors followed by more than this many users are pulled.
THRESHOLD = 5
SMALL_AUDIENCE = 10
#: The large audience: the target's 100,000 followers, fewer in a quick run.
LARGE_AUDIENCE = {"full": 100_000, "quick": 10_000}
SOURCES = 10
READER_KEY = "pull-reader:home"
START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def followers_up_to_threshold(post) -> int:
    """Count the author's followers, stopping past the threshold: a bounded query."""
    return Follow.objects.filter(followee_id=post.author_id)[: THRESHOLD + 1].count()


def author_with_followers(count: int) -> User:
    author = User.objects.create(username=f"pulled-author-{count}")
    followers = User.objects.bulk_create([User(username=f"pulled-{count}-{i}") for i in range(count)], batch_size=5000)
    Follow.objects.bulk_create([Follow(follower=f, followee=author) for f in followers], batch_size=5000)
    return author


def post_rows(config) -> list:
    """Return the rows of a pulled author's post with the large audience against the small one."""
    small = author_with_followers(SMALL_AUDIENCE)
    large_audience = LARGE_AUDIENCE[config.mode]
    large = author_with_followers(large_audience)

    def poster(author):
        def post():
            with transaction.atomic():
                Post.objects.create(author=author, body="pulled")

        return post

    large_post, small_post = compare(poster(large), poster(small), config.runs * config.batch)
    assert not timelines["default"].get(f"user:{small.pk}:home"), "a pulled post reached a follower"
    return [ratio_row("12 pulled post", f"{large_audience:,} followers", "ms", large_post, small_post,
                      f"{SMALL_AUDIENCE} followers", limit=1.2, scale=1000)]


def fill(key: str, author: User, count: int, offset: int) -> None:
    """Create ``count`` posts by ``author`` (no signals) and put them in ``key``, as fan-out would."""
    posts = Post.objects.bulk_create(
        [Post(author=author, created=START + timedelta(minutes=offset + n * SOURCES), body=f"post {n}")
         for n in range(count)],
        batch_size=2000,
    )
    timelines["default"].add_many(key, [Post.home_timeline.item(post) for post in posts])


def read_rows(config, source_items: int) -> list:
    """Return the row of a page merging the reader's key and 10 sources of ``source_items`` items each."""
    reader = User.objects.create(username=f"pull-reader-{source_items}")
    home = f"{READER_KEY}:{source_items}"
    fill(home, reader, 1000, offset=0)
    sources = []
    for n in range(SOURCES):
        author = User.objects.create(username=f"pull-source-{source_items}-{n}")
        sources.append(f"user:{author.pk}:posts")
        fill(sources[-1], author, source_items, offset=n + 1)

    def merged():
        items = timeline_tag(home, limit=20, sources=sources)
        assert len(items) == 20 and all(isinstance(item, Post) for item in items)

    def cold_merged():
        source_view.cache_clear()
        merged()

    def alone():
        items = timeline_tag(home, limit=20)
        assert len(items) == 20 and all(isinstance(item, Post) for item in items)

    with CaptureQueriesContext(connection) as merged_queries:
        merged()
    with CaptureQueriesContext(connection) as alone_queries:
        alone()
    subject, floor = compare(merged, alone, config.runs * config.batch)
    cold, cold_floor = compare(cold_merged, alone, config.runs * config.batch)
    row = ratio_row("12 merged page", f"+{SOURCES} sources of {source_items:,} items, {len(merged_queries)} queries",
                    "ms", subject, floor, f"one key of 1,000 items, {len(alone_queries)} queries", limit=2, scale=1000)
    same_queries = len(merged_queries) == len(alone_queries)
    return [
        replace(row, target="<= 2x, same queries", met=row.met and same_queries),
        ratio_row("12 merged page", f"+{SOURCES} sources of {source_items:,} items, none decoded before", "ms", cold,
                  cold_floor, "one key of 1,000 items", scale=1000),
    ]


def run(config):
    field = Post.home_timeline
    saved = field.pull, field.pull_from
    field.pull, field.pull_from = PullAbove(THRESHOLD, followers_up_to_threshold), "user:{author_id}:posts"
    try:
        rows = post_rows(config)
    finally:
        field.pull, field.pull_from = saved
    for source_items in (100, 1000):
        rows += read_rows(config, source_items)
    return rows
