"""Stores for failure tests."""

from django_timak.backends.base import BaseBackend
from django_timak.backends.memory import MemoryBackend
from django_timak.exceptions import TimelineBackendError


class UnreachableBackend(BaseBackend):
    """A store that never answers, like a Riak node whose port is closed."""

    networked = True

    def _refuse(self, key, *args):
        raise TimelineBackendError(f"connection refused for {key!r}", key=key)

    read = write = delete = append = _refuse


class SwitchableBackend(MemoryBackend):
    """A networked store that can be taken down and brought back (``down = True``)."""

    networked = True
    down = False

    def _answer(self, key):
        if self.down:
            raise TimelineBackendError(f"connection refused for {key!r}", key=key)

    def read(self, key):
        self._answer(key)
        return super().read(key)

    def write(self, key, value, token):
        self._answer(key)
        super().write(key, value, token)

    def append(self, key, value):
        self._answer(key)
        return super().append(key, value)

    def ping(self):
        return not self.down
