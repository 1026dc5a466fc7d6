"""A process-local store for tests and single-process tools.

With ``allow_mult=True`` it keeps concurrent writes as siblings, exactly as Riak
does with dotted version vectors: a write replaces the values its token saw and
keeps the rest. Without it, a stale write raises ``WriteConflict`` like the database.
"""

import itertools
import threading

from ..exceptions import WriteConflict
from .base import BaseBackend, Versioned


class MemoryBackend(BaseBackend):
    """Timelines in a dict, guarded by a lock."""

    def __init__(self, allow_mult: bool = False):
        self.allow_mult = allow_mult
        self._data: dict[str, list[tuple[int, bytes]]] = {}
        self._dots = itertools.count(1)
        self._lock = threading.Lock()

    def read(self, key):
        with self._lock:
            stored = self._data.get(key, [])
            token = frozenset(dot for dot, _ in stored) or None
            return Versioned([value for _, value in stored], token)

    def write(self, key, value, token):
        seen = token or frozenset()
        with self._lock:
            stored = self._data.get(key, [])
            unseen = [(dot, v) for dot, v in stored if dot not in seen]
            if unseen and not self.allow_mult:
                raise WriteConflict(f"{key!r} changed since it was read", key=key)
            self._data[key] = unseen + [(next(self._dots), bytes(value))]

    def delete(self, key, token):
        seen = token or frozenset()
        with self._lock:
            unseen = [(dot, v) for dot, v in self._data.get(key, []) if dot not in seen]
            if unseen:
                self._data[key] = unseen
            else:
                self._data.pop(key, None)

    def keys(self):
        """Return the stored keys (for tests and tools; Riak cannot list cheaply)."""
        with self._lock:
            return sorted(self._data)

    def clear(self):
        """Drop every timeline."""
        with self._lock:
            self._data.clear()
