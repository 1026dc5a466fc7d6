"""The storage contract: backends keep opaque bytes under string keys.

A backend never interprets what it stores. Reading returns every concurrent value
(siblings) with a causal token; writing with that token replaces what was read. A
store that can keep siblings (Riak) keeps a concurrent write as a new sibling; one
that cannot (a SQL database) raises ``WriteConflict`` and the timeline reads again.
"""

from dataclasses import dataclass
from typing import Any

from ..exceptions import TimelineBackendError


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
