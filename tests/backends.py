"""Stores for failure tests."""

from django_timak.backends.base import BaseBackend
from django_timak.exceptions import TimelineBackendError


class UnreachableBackend(BaseBackend):
    """A store that never answers, like a Riak node whose port is closed."""

    networked = True

    def _refuse(self, key, *args):
        raise TimelineBackendError(f"connection refused for {key!r}", key=key)

    read = write = delete = _refuse
