"""Users who post and follow: the timelines are declared on ``Post`` and kept by django-timak.

``user:<id>:posts`` holds a user's own posts; ``user:<id>:home`` the posts of the user
and of everyone they follow, written once per follower when a post is saved (fan-out
on write), so reading a home page is one fetch by key. Accounts followed by more than
``settings.DEMO_PULL_ABOVE`` users are pulled instead: their posts stay in their own
timeline, and a home page reads it beside the home key (``pulled_sources``).
"""

from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from django_timak import TimelineField, TimelineMixin, timelines
from django_timak.pull import PullAbove

PROFILE_KEY = "user:{}:posts"
HOME_KEY = "user:{}:home"
NOTIFICATIONS_KEY = "user:{}:notifications"
#: How many of a followee's recent posts a new follower's home timeline receives.
BACKFILL = 50


class User(AbstractUser):
    bio = models.CharField(max_length=160, blank=True)

    def profile_key(self) -> str:
        return PROFILE_KEY.format(self.pk)

    def home_key(self) -> str:
        return HOME_KEY.format(self.pk)

    def notifications_key(self) -> str:
        return NOTIFICATIONS_KEY.format(self.pk)


def home_recipients(post) -> list[int]:
    """Return whose home timelines a post goes to: its author's and every follower's."""
    return [post.author_id, *Follow.follower_ids(post.author_id)]


def home_recipients_many(posts) -> dict[int, list[int]]:
    """Return ``home_recipients`` of many posts with one query (task workers, rebuild_timelines)."""
    followers = {}
    follows = Follow.objects.filter(followee_id__in={post.author_id for post in posts})
    for follower_id, followee_id in follows.values_list("follower_id", "followee_id"):
        followers.setdefault(followee_id, []).append(follower_id)
    return {post.pk: [post.author_id, *followers.get(post.author_id, ())] for post in posts}


def pull_threshold() -> int:
    """Return how many followers an account may have and still be pushed (read at every post)."""
    return settings.DEMO_PULL_ABOVE


def followers_past_threshold(user_id) -> int:
    """Count ``user_id``'s followers up to one past the threshold: the query stays as cheap for a million."""
    return Follow.objects.filter(followee_id=user_id)[: pull_threshold() + 1].count()


def author_follower_count(post) -> int:
    return followers_past_threshold(post.author_id)


def is_pulled(user) -> bool:
    """Return True if ``user``'s posts stay in their own timeline, for followers to pull."""
    return followers_past_threshold(user.pk) > pull_threshold()


def pulled_sources(user) -> list[str]:
    """Return the keys ``user``'s home page merges in: every pulled account they follow, and their own if pulled.

    Computed at each read, so an unfollow takes an account out at once, and a follow of
    a pulled account shows its posts without copying them.
    """
    audience = (
        Follow.objects.filter(followee=models.OuterRef("pk")).order_by().values("followee")
        .annotate(count=models.Count("pk")).values("count")
    )
    followed = Follow.objects.filter(follower=user).values("followee")
    pulled = (
        User.objects.filter(models.Q(pk__in=followed) | models.Q(pk=user.pk))
        .annotate(audience=models.Subquery(audience)).filter(audience__gt=pull_threshold())
        .order_by("pk").values_list("pk", flat=True)
    )
    return [PROFILE_KEY.format(pk) for pk in pulled]


class Post(TimelineMixin, models.Model):
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="posts")
    created = models.DateTimeField(default=timezone.now, db_index=True)
    body = models.TextField(max_length=280)

    profile_timeline = TimelineField("user:{author_id}:posts", score="created", actor="author")
    home_timeline = TimelineField(
        "user:{recipient}:home", score="created", actor="author",
        recipients=home_recipients, recipients_many=home_recipients_many,
        pull=PullAbove(pull_threshold, author_follower_count), pull_from="user:{author_id}:posts",
    )

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.author}: {self.body[:40]}"

    @classmethod
    def get_timeline_queryset(cls):
        return cls.objects.select_related("author")


def followed_on(follow) -> str:
    """Return the group of a follow's notification: the followee's new followers of one (UTC) day."""
    return f"follow:{follow.created:%Y-%m-%d}"


class Follow(TimelineMixin, models.Model):
    follower = models.ForeignKey(User, on_delete=models.CASCADE, related_name="following")
    followee = models.ForeignKey(User, on_delete=models.CASCADE, related_name="followers")
    created = models.DateTimeField(default=timezone.now)

    notification = TimelineField(NOTIFICATIONS_KEY.format("{followee_id}"), score="created", group=followed_on, actor="follower")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_once"),
            models.CheckConstraint(condition=~models.Q(follower=models.F("followee")), name="follow_not_self"),
        ]

    def __str__(self):
        return f"{self.follower} follows {self.followee}"

    @classmethod
    def follower_ids(cls, user_id) -> list[int]:
        return list(cls.objects.filter(followee_id=user_id).values_list("follower_id", flat=True))


@receiver(post_save, sender=Follow, dispatch_uid="social.follow_backfill")
def backfill(sender, instance, created, **kwargs):
    """A new follower sees the followee's recent posts at once (a pulled followee's are read, not copied)."""
    if created and not is_pulled(instance.followee):
        copy = partial(
            timelines["default"].copy_items, PROFILE_KEY.format(instance.followee_id),
            HOME_KEY.format(instance.follower_id), limit=BACKFILL,
        )
        transaction.on_commit(copy, robust=True)


@receiver(post_delete, sender=Follow, dispatch_uid="social.follow_remove")
def unfollow(sender, instance, **kwargs):
    """An unfollow takes the followee's posts out of the follower's home timeline.

    The unfollow that brings a pulled account back to the threshold makes it pushed
    again: its remaining followers (no more than the threshold) get what they pulled.
    """
    source = PROFILE_KEY.format(instance.followee_id)
    transaction.on_commit(
        partial(timelines["default"].remove_items, source, HOME_KEY.format(instance.follower_id)), robust=True
    )
    followers = Follow.follower_ids(instance.followee_id)
    if len(followers) == pull_threshold():
        homes = [HOME_KEY.format(pk) for pk in (instance.followee_id, *followers)]
        transaction.on_commit(partial(timelines["default"].catch_up, source, homes, limit=BACKFILL), robust=True)


def liked_post_authors(likes) -> dict[int, list[int]]:
    """Return whom each like notifies: its post's author (one query for many likes), unless they liked their own post."""
    authors = dict(Post.objects.filter(pk__in={like.post_id for like in likes}).values_list("pk", "author_id"))
    return {like.pk: [authors[like.post_id]] for like in likes if authors.get(like.post_id, like.user_id) != like.user_id}


def liked_post(like) -> str:
    """Return the group of a like's notification: every like of one post is one item."""
    return f"like:{like.post_id}"


class Like(TimelineMixin, models.Model):
    """A user likes a post; its author's notifications show the likes of one post as one item."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="likes")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    created = models.DateTimeField(default=timezone.now)

    notification = TimelineField(
        NOTIFICATIONS_KEY.format("{recipient}"), score="created", recipients_many=liked_post_authors,
        group=liked_post, actor="user", target="post",
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="like_once")]

    def __str__(self):
        return f"{self.user} likes {self.post}"


class Block(models.Model):
    """``blocker`` blocks ``blocked``: neither sees the other, in homes, profiles and notifications."""

    blocker = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks")
    blocked = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocked_by")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["blocker", "blocked"], name="block_once")]


class Mute(models.Model):
    """``muter`` mutes ``muted``: their posts leave the muter's home, nothing else."""

    muter = models.ForeignKey(User, on_delete=models.CASCADE, related_name="mutes")
    muted = models.ForeignKey(User, on_delete=models.CASCADE, related_name="muted_by")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["muter", "muted"], name="mute_once")]
