"""A process-local store for tests and single-process tools.

With ``allow_mult=True`` it keeps concurrent writes as siblings, exactly as Riak
does with dotted version vectors: a write replaces the values its token saw and
keeps the rest, and an append is one more sibling. Without it, it behaves like the
database: a key holds one written value plus its appended values; a write over a
written value it did not see raises ``WriteConflict``, and appended values it did
not see survive it.
"""

import itertools
import threading
from typing import NamedTuple

from ..exceptions import WriteConflict
from .base import BaseBackend, Versioned


class _Stored(NamedTuple):
    """One value of a key: its dot (unique in the store), its bytes, and how it came."""

    dot: int
    value: bytes
    appended: bool


class MemoryBackend(BaseBackend):
    """Timelines in a dict, guarded by a lock."""

    def __init__(self, allow_mult: bool = False):
        self.allow_mult = allow_mult
        self._data: dict[str, list[_Stored]] = {}
        self._dots = itertools.count(1)
        self._lock = threading.Lock()

    def read(self, key):
        return self.read_many([key])[key]

    def read_many(self, keys):
        """Return every key's values under one hold of the lock: a consistent snapshot."""
        with self._lock:
            found = {}
            for key in dict.fromkeys(keys):
                stored = self._data.get(key, [])
                found[key] = Versioned([s.value for s in stored], frozenset(s.dot for s in stored) or None)
            return found

    def write(self, key, value, token):
        seen = token or frozenset()
        with self._lock:
            unseen = [s for s in self._data.get(key, []) if s.dot not in seen]
            if not self.allow_mult and any(not s.appended for s in unseen):
                raise WriteConflict(f"{key!r} changed since it was read", key=key)
            self._data[key] = unseen + [_Stored(next(self._dots), bytes(value), False)]

    def append(self, key, value):
        with self._lock:
            stored = self._data.setdefault(key, [])
            stored.append(_Stored(next(self._dots), bytes(value), True))
            return len(stored)

    def delete(self, key, token):
        seen = token or frozenset()
        with self._lock:
            unseen = [s for s in self._data.get(key, []) if s.dot not in seen]
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
