"""DRF errors for what ``TimelineView`` answers: a bad cursor or exclusion (400), an impossible key (404), a store that is down (503).

They are ``APIException``s, so DRF's exception handler renders them in its own
format (``{"detail": ...}``) and sets ``Retry-After`` from ``wait``.
"""

from contextlib import contextmanager

from rest_framework import status
from rest_framework.exceptions import APIException, NotFound

from ..exceptions import InvalidCursor, InvalidKey, TimelineUnavailable


class BadCursor(APIException):
    """The ``cursor`` parameter was not made by this library, or was altered."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Invalid cursor."
    default_code = "invalid_cursor"


class BadExclusions(APIException):
    """The view's ``get_excluded_actors()`` (or ``TIMAK_EXCLUDED_ACTORS``) answered what is not a set of actors."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Invalid excluded actors."
    default_code = "invalid_excluded_actors"


class NoSuchTimeline(NotFound):
    """The URL names a key no timeline can have."""

    default_detail = "No such timeline."
    default_code = "no_such_timeline"


class StoreUnavailable(APIException):
    """The timeline store cannot answer now; ``wait`` becomes ``Retry-After``."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Timeline unavailable, try again later."
    default_code = "timeline_unavailable"

    def __init__(self, wait: int, detail=None, code=None):
        super().__init__(detail, code)
        self.wait = wait


@contextmanager
def api_errors(retry_after: int):
    """Raise the DRF error for the library's read errors met inside the block."""
    try:
        yield
    except InvalidCursor as e:
        raise BadCursor() from e
    except InvalidKey as e:
        raise NoSuchTimeline() from e
    except TimelineUnavailable as e:
        raise StoreUnavailable(retry_after) from e
