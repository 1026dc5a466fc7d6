"""The errors django-timak raises: one base class, each error also subclassing the closest built-in.

The configuration error subclasses Django's ``ImproperlyConfigured``, so Django
reports it as it reports its own. ``django.core.exceptions`` reads no settings and
imports no more than a few utilities, so the pure core, which raises the other
errors, still imports and runs without Django configured.
"""

from django.core.exceptions import ImproperlyConfigured


class TimelineError(Exception):
    """Base class of every django-timak error."""


class TimelineConfigError(TimelineError, ImproperlyConfigured):
    """TIMAK_TIMELINES, TIMAK_FANOUT, TIMAK_OUTBOX or a timeline declaration is misconfigured."""


class InvalidTimelineInput(TimelineError, ValueError):
    """An argument that can never be stored: nothing was written."""


class InvalidKey(InvalidTimelineInput):
    """A timeline key that is empty, too long or holds control characters."""


class InvalidScore(InvalidTimelineInput, TypeError):
    """A score that is neither a datetime, a date nor a number."""


class InvalidData(InvalidTimelineInput, TypeError):
    """obj_data (or an id) that cannot be serialised."""


class InvalidCursor(TimelineError, ValueError):
    """A pagination cursor that was not made by this library, or was altered."""


class CorruptValue(TimelineError, ValueError):
    """A stored value that cannot be decoded."""


class TimelineBackendError(TimelineError):
    """The store failed; ``status`` and ``message`` say what it answered, if anything."""

    def __init__(self, message, *, status=None, key=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.key = key


class TimelineUnavailable(TimelineError):
    """A page cannot be read now: the store failed, or the alias is misconfigured.

    Raised by page reads for web pages (the ``{% timeline %}`` tag and
    ``TimelineView``), which degrade instead of failing; the cause is chained.
    """


class WriteConflict(TimelineBackendError):
    """The value changed since it was read; the caller should read again and retry."""


class ValueTooLarge(TimelineError, ValueError):
    """An encoded timeline would exceed MAX_VALUE_BYTES: nothing was written."""


class BucketTypeMissing(TimelineBackendError):
    """The configured Riak bucket type was never created (or not activated) on the cluster."""


class BucketPropsRefused(TimelineBackendError):
    """Riak refused bucket properties (400): the message says which and why."""


class RiakAccessDenied(TimelineBackendError):
    """Riak security refused the request (401, 403, 426), or credentials would go unencrypted."""


class RiakTLSError(TimelineBackendError):
    """The TLS handshake with a Riak node failed: an untrusted or mismatched certificate."""


class RiakWriteInterrupted(WriteConflict):
    """A read-merge-write failed where it may have landed: read again (on another node) and merge."""


class TooManySiblings(TimelineBackendError):
    """The store refused a write that would leave a key with more values than it keeps (Riak:
    ``object.siblings.maximum``); reading the key and writing the merge back clears it."""
