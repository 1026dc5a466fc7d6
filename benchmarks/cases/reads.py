"""Case 6: a hydrated home-page read as the data grows.

The page is read the way ``{% timeline %}`` reads it (one timeline read, then one
query per model for the 20 rows), with 1,000 to 100,000 posts in the database. Its
floor is the same read with 1,000 posts: the target is a cost that does not grow.
"""

from datetime import datetime, timedelta, timezone

from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_timak.handler import timelines
from django_timak.templatetags.timak import timeline as timeline_tag
from tests.models import Follow, Post, User

from ..items import items
from ..measure import repeat
from ..report import Row

READER_KEY = "user:0:home"
AUTHORS = 20
START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def grow(total: int) -> None:
    """Add posts (without signals: bulk_create) until the database holds ``total``."""
    authors = list(User.objects.order_by("pk")[1 : AUTHORS + 1])
    have = Post.objects.count()
    texts = items(total - have, start=have)
    Post.objects.bulk_create(
        [Post(author=authors[pk % AUTHORS], created=START + timedelta(minutes=pk), body=data["text"])
         for pk, (_, _, data) in enumerate(texts, start=have)],
        batch_size=2000,
    )


def fill_home(limit: int) -> None:
    """Put the newest ``limit`` posts in the reader's home timeline, as fan-out would."""
    newest = Post.objects.order_by("-created")[:limit]
    field = Post.home_timeline
    timelines["default"].add_many(READER_KEY, [field.item(post) for post in newest])


def ensure_users() -> None:
    """Create the reader (the first user) and the authors it follows, once."""
    if User.objects.exists():
        return
    users = User.objects.bulk_create([User(username=f"user{i}") for i in range(AUTHORS + 1)])
    Follow.objects.bulk_create([Follow(follower=users[0], followee=author) for author in users[1:]])


def read_page():
    items = timeline_tag(READER_KEY, limit=20)
    assert len(items) == 20 and all(isinstance(item, Post) for item in items)
    return items


def run(config):
    ensure_users()
    results = []
    for total in config.posts:
        grow(total)
        fill_home(1000)
        with CaptureQueriesContext(connection) as queries:
            read_page()
        batch = config.batch

        def pages():
            for _ in range(batch):
                read_page()

        results.append((total, repeat(pages, config.runs).scaled(1000 / batch), len(queries)))
    smallest, floor, floor_queries = results[0]
    rows = []
    for total, spent, count in results:
        ratio = spent.median / floor.median
        met = ratio <= 1.3 and count == floor_queries
        rows.append(Row("6 home page", f"{total:,} posts, {count} queries", "ms", spent, floor.median,
                        f"{smallest:,} posts", ratio, "<= 1.3x, same queries", met))
    return rows
