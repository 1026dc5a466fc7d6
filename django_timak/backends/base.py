"""The storage contract: backends keep opaque bytes under string keys.

A backend never interprets what it stores. Reading returns every concurrent value
(siblings) with a causal token; writing with that token replaces what was read. A
store that can keep siblings (Riak) keeps a concurrent write as a new sibling; one
that cannot (a SQL database) raises ``WriteConflict`` and the timeline reads again.

Appending stores a small value beside what a key holds without reading it: it reads
back as one more sibling until a write whose token saw it replaces it. Appends never
conflict, so fan-out costs one blind write per key, and the merge that already
reconciles siblings folds the appended values in.

Every call has an async form (``aread``, ``awrite``, ...), as in Django's cache
framework: by default the sync call run by ``sync_to_async`` in the thread Django's
ORM uses (``thread_sensitive``), which the database store needs; a store that speaks
its protocol natively async (Riak over HTTP) overrides them.
"""

from dataclasses import dataclass
from typing import Any

from ..exceptions import TimelineBackendError, WriteConflict


@dataclass(frozen=True, slots=True)
class Versioned:
    """What a read found: zero values (missing), one, or several siblings."""

    values: list[bytes]
    token: Any = None


class BaseBackend:
    """Base class of timeline stores.

    Every subclass builds with no arguments (sensible local defaults) and connects
    lazily, so importing settings or running ``manage.py check`` never needs the
    store to be up.
    """

    #: True when every call crosses a network: fan-out then runs calls concurrently
    #: and routes writes through the outbox by default.
    networked = False

    #: The largest value the store should be asked to keep, or None; a Timeline
    #: without its own MAX_VALUE_BYTES refuses larger values before writing.
    max_value_bytes = None

    def read(self, key: str) -> Versioned:
        """Return every value stored under ``key`` with the token to write back."""
        raise NotImplementedError("subclasses of BaseBackend must provide read()")

    def write(self, key: str, value: bytes, token: Any) -> None:
        """Store ``value`` as the successor of what ``token`` was read with.

        ``token`` is None for a key read as missing. Raise ``WriteConflict`` if the
        store cannot keep siblings and the key changed since that read.
        """
        raise NotImplementedError("subclasses of BaseBackend must provide write()")

    def delete(self, key: str, token: Any) -> None:
        """Remove ``key``; a missing key is not an error."""
        raise NotImplementedError("subclasses of BaseBackend must provide delete()")

    def read_many(self, keys) -> dict[str, Versioned]:
        """Return ``{key: Versioned}`` for every key, as ``read`` would (a page over several keys).

        Stores that can batch (one query, concurrent requests) override this loop.
        """
        return {key: self.read(key) for key in dict.fromkeys(keys)}

    def write_many(self, values: dict[str, tuple[bytes, Any]]) -> set[str]:
        """Write each ``(value, token)`` as ``write`` would; return the keys that changed since their read.

        For compacting many keys at once. Stores that can batch (one transaction) override this loop.
        """
        conflicted = set()
        for key, (value, token) in values.items():
            try:
                self.write(key, value, token)
            except WriteConflict:
                conflicted.add(key)
        return conflicted

    def append(self, key: str, value: bytes) -> int:
        """Store ``value`` beside what ``key`` holds, without reading it (a blind write).

        Return how many values the key holds now (its value plus unmerged appends), as
        far as the store can tell without another round trip; at least 1. The next
        ``read`` returns the appended value among the siblings, and a ``write`` whose
        token saw it removes it; one appended after that read survives the write.
        """
        raise NotImplementedError("subclasses of BaseBackend must provide append()")

    def append_many(self, values: dict[str, bytes]) -> dict[str, int]:
        """Append each value to its key; return each key's count, as ``append`` does.

        Stores that can batch (one INSERT, concurrent requests) override this loop.
        """
        return {key: self.append(key, value) for key, value in values.items()}

    def ping(self) -> bool:
        """Return True if the store answers; never raise."""
        try:
            self.read("timak:ping")
        except TimelineBackendError:
            return False
        return True

    def check(self) -> list:
        """Return Django check messages about the store's own configuration."""
        return []

    def close(self) -> None:
        """Release connections; the backend reconnects on its next call."""

    # The async forms: the sync calls in Django's ORM thread unless a store overrides them.

    async def aread(self, key: str) -> Versioned:
        return await _in_thread(self.read, key)

    async def awrite(self, key: str, value: bytes, token: Any) -> None:
        await _in_thread(self.write, key, value, token)

    async def adelete(self, key: str, token: Any) -> None:
        await _in_thread(self.delete, key, token)

    async def aread_many(self, keys) -> dict[str, Versioned]:
        return await _in_thread(self.read_many, keys)

    async def aappend(self, key: str, value: bytes) -> int:
        return await _in_thread(self.append, key, value)

    async def aappend_many(self, values: dict[str, bytes]) -> dict[str, int]:
        return await _in_thread(self.append_many, values)

    async def aping(self) -> bool:
        return await _in_thread(self.ping)

    async def aclose(self) -> None:
        await _in_thread(self.close)


async def _in_thread(function, *args):
    """Return ``function(*args)`` run in the thread Django runs sync ORM calls in."""
    from asgiref.sync import sync_to_async

    return await sync_to_async(function, thread_sensitive=True)(*args)
