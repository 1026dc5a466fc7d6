"""The errors django-timak raises, each subclassing the closest built-in.

Imports no Django, so the pure core can raise them; the configuration error, which
subclasses Django's ImproperlyConfigured, lives in ``django_timak.handler``.
"""


class TimelineError(Exception):
    """Base class of every django-timak error."""


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
