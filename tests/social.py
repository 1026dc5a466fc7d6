"""Helpers for the Django integration tests: a small follow graph and timeline readers."""

from django_timak import timelines
from tests.models import Follow, User


def ids(key, alias="default"):
    """Return the ids a timeline shows, in order."""
    return [entry.id for entry in timelines[alias].get(key, raw=True)]


def ref(row):
    return f"{row._meta.label_lower}:{row.pk}"


def make_users(*names):
    return [User.objects.create(username=name) for name in names]


def follow(follower, followee):
    return Follow.objects.create(follower=follower, followee=followee)
