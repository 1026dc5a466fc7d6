"""The test project's models: the Post of the README, a follow graph, and photos.

Photos share the profile timeline with posts, so a page mixes two models.
``memory_timeline`` mirrors the profile timeline on the MemoryBackend alias, so the
fan-out tests run on both stores.
"""

from functools import partial

from django.contrib.auth.models import AbstractUser
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from django_timak import TimelineField, TimelineMixin, timelines

BACKFILL = 50


class User(AbstractUser):
    def follower_ids(self):
        return list(Follow.objects.filter(followee=self).values_list("follower_id", flat=True))


def is_published(post):
    return post.published


def followers_by_post(posts):
    """Return ``{post.pk: follower ids}`` for many posts in one query (``recipients_many``)."""
    by_author = {}
    authors = {post.author_id for post in posts}
    for follower_id, followee_id in Follow.objects.filter(followee_id__in=authors).values_list("follower_id", "followee_id"):
        by_author.setdefault(followee_id, []).append(follower_id)
    return {post.pk: by_author.get(post.author_id, []) for post in posts}


class Post(TimelineMixin, models.Model):
    author = models.ForeignKey(User, on_delete=models.CASCADE)
    created = models.DateTimeField(default=timezone.now)
    body = models.TextField()
    published = models.BooleanField(default=True)

    profile_timeline = TimelineField("user:{author_id}:posts", score="created", condition=is_published)
    home_timeline = TimelineField(
        "user:{recipient}:home",
        score="created",
        recipients=lambda post: post.author.follower_ids(),
        recipients_many=followers_by_post,
        condition=is_published,
        data=lambda post: {"body": post.body[:140]},
    )
    memory_timeline = TimelineField("user:{author_id}:posts", score="created", condition=is_published, timeline="memory")

    @classmethod
    def get_timeline_queryset(cls):
        return cls.objects.select_related("author")


class Photo(TimelineMixin, models.Model):
    owner = models.ForeignKey(User, on_delete=models.CASCADE)
    taken = models.DateTimeField(default=timezone.now)
    caption = models.CharField(max_length=100)

    profile_timeline = TimelineField("user:{owner_id}:posts", score="taken")


def note_tags(note):
    """Return the #tags of a note; a "!" in its topic makes it raise, like a buggy callable."""
    if "!" in note.topic:
        raise ValueError(f"cannot read the tags of {note.topic!r}")
    return note.topic.split("#")[1:]


class Note(TimelineMixin, models.Model):
    """A note filed under a free-text topic: its keys are built from what a user typed."""

    topic = models.CharField(max_length=500)
    created = models.DateTimeField(default=timezone.now)

    topic_timeline = TimelineField("topic:{topic}", score="created")
    tag_timeline = TimelineField("tag:{recipient}", score="created", recipients=note_tags)


class Follow(models.Model):
    follower = models.ForeignKey(User, on_delete=models.CASCADE, related_name="following")
    followee = models.ForeignKey(User, on_delete=models.CASCADE, related_name="followers")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["follower", "followee"], name="unique_follow")]


@receiver(post_save, sender=Follow, dispatch_uid="tests.follow_backfill")
def backfill(sender, instance, created, **kwargs):
    """A new follower sees the followee's recent posts."""
    if created:
        profile, home = f"user:{instance.followee_id}:posts", f"user:{instance.follower_id}:home"
        transaction.on_commit(partial(timelines["default"].copy_items, profile, home, limit=BACKFILL), robust=True)


@receiver(post_delete, sender=Follow, dispatch_uid="tests.follow_remove")
def unfollow(sender, instance, **kwargs):
    """An unfollow removes the followee's posts from the follower's home timeline."""
    profile, home = f"user:{instance.followee_id}:posts", f"user:{instance.follower_id}:home"
    transaction.on_commit(partial(timelines["default"].remove_items, profile, home), robust=True)


def post_authors(likes):
    """Return ``{like.pk: [the liked post's author]}`` for many likes in one query."""
    authors = dict(Post.objects.filter(pk__in={like.post_id for like in likes}).values_list("pk", "author_id"))
    return {like.pk: [authors[like.post_id]] for like in likes if like.post_id in authors}


def liked_post(like):
    return f"like:{like.post_id}"


class Like(TimelineMixin, models.Model):
    """A like: its post's author is notified, the likes of one post grouped into one item."""

    user = models.ForeignKey(User, on_delete=models.CASCADE)
    post = models.ForeignKey(Post, on_delete=models.CASCADE)
    created = models.DateTimeField(default=timezone.now)

    notifications = TimelineField(
        "user:{recipient}:notifications", score="created", recipients_many=post_authors,
        group=liked_post, actor="user", target="post",
    )
    memory_notifications = TimelineField(
        "user:{recipient}:notifications", score="created", recipients_many=post_authors,
        group=liked_post, actor="user", target="post", timeline="memory",
    )


class Remark(TimelineMixin, models.Model):
    """A post that names its actor: its entries carry the author, for exclusions and erasure."""

    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="remarks")
    created = models.DateTimeField(default=timezone.now)
    body = models.TextField()

    profile = TimelineField("remarks:{author_id}", score="created", actor="author")
    home = TimelineField(
        "remarks:{recipient}:home", score="created", actor="author", recipients_many=followers_by_post,
    )
