"""``manage.py seed_demo``: users, a skewed follow graph and months of posts, saved one by one.

Every row goes through its model's ``save()``, as a request would save it, so the
timelines fill by django-timak's fan-out and the follows backfill: the data set
exercises the library rather than bypassing it. Posts are saved inside
``fanout.batched()``, as any bulk import should be.

The data set is a pure function of the arguments (see ``social.demodata``), and the
posts span the months before the first run (the first demo account's
``date_joined``), so a second run finds everything in place and saves nothing, and
a larger ``--posts`` adds only the new posts.
"""

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from django_timak import fanout

from social.demodata import DEMO_ACCOUNTS, PASSWORD, followees, person, post
from social.management.progress import Progress
from social.models import Follow, Post, User

#: Posts saved per transaction and per fan-out batch.
CHUNK = 500


class Command(BaseCommand):
    help = "Create demo users, follows and posts through model saves, so timelines fill by fan-out."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=300, help="users to create (default 300)")
        parser.add_argument("--posts", type=int, default=10_000, help="posts to create (default 10000)")

    def handle(self, *args, users, posts, verbosity, **options):
        if users < len(DEMO_ACCOUNTS) or posts < 0:
            raise CommandError(f"--users must be at least {len(DEMO_ACCOUNTS)} and --posts at least 0")
        self.verbosity = verbosity
        people = self.seed_users(users)
        follows = self.seed_follows(people)
        created = self.seed_posts(people, posts)
        if verbosity:
            self.stdout.write(
                self.style.SUCCESS(f"Seeded {len(people)} users, {follows} new follows, {created} new posts.")
            )
            self.stdout.write(f"Sign in as {', '.join(DEMO_ACCOUNTS)} (or any user) with password {PASSWORD!r}.")

    def progress(self, label, total):
        return Progress(self.stdout, label, total, enabled=self.verbosity >= 1)

    def seed_users(self, count: int) -> list[User]:
        """Create the missing users (no timelines hang on users: one bulk insert)."""
        people = [person(i) for i in range(count)]
        names = [p["username"] for p in people]
        existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        # One hash for all: hashing a password takes a good fraction of a second.
        password = make_password(PASSWORD)
        User.objects.bulk_create(User(password=password, **p) for p in people if p["username"] not in existing)
        by_name = User.objects.in_bulk(names, field_name="username")
        return [by_name[name] for name in names]

    def seed_follows(self, people: list[User]) -> int:
        """Save the missing follows one by one, so each one's backfill runs."""
        existing = set(Follow.objects.values_list("follower_id", "followee_id"))
        wanted = [(people[i], people[j]) for i in range(len(people)) for j in followees(i, len(people))]
        missing = [(a, b) for a, b in wanted if (a.pk, b.pk) not in existing]
        bar = self.progress("follows", len(missing))
        for follower, followee in missing:
            Follow(follower=follower, followee=followee).save()
            bar.advance()
        bar.close()
        return len(missing)

    def seed_posts(self, people: list[User], count: int) -> int:
        """Save the missing posts one by one, oldest first: each save fans out."""
        anchor = people[0].date_joined
        wanted = sorted((post(i, len(people), anchor) for i in range(count)), key=lambda p: p[1])
        existing = set(Post.objects.filter(author__in=people).values_list("author_id", "created"))
        missing = [(people[a], c, b) for a, c, b in wanted if (people[a].pk, c) not in existing]
        bar = self.progress("posts", len(missing))
        for start in range(0, len(missing), CHUNK):
            # One transaction and one fan-out per chunk: each timeline key is then
            # written once per chunk rather than once per post.
            with fanout.batched(), transaction.atomic():
                for author, created, body in missing[start : start + CHUNK]:
                    Post(author=author, created=created, body=body).save()
                    bar.advance()
        elapsed = bar.close()
        if self.verbosity >= 2 and missing:
            self.stdout.write(f"{len(missing)} posts in {elapsed:.1f}s ({len(missing) / elapsed:,.0f}/s)")
        return len(missing)
