"""What a timeline accepts: keys, ids, scores, clocks and data, checked before anything is written."""

import re
from datetime import date, datetime, timezone

from . import codecs, entries as core
from .entries import Entry, tombstone
from .exceptions import InvalidKey, InvalidScore, InvalidTimelineInput

#: Keys longer than this are refused (the database backend's column is this wide).
MAX_KEY_LENGTH = 255
#: String ids longer than this are refused.
MAX_ID_LENGTH = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Lone surrogates: no UTF-8 store (SQLite, PostgreSQL, Riak's JSON) can hold them.
_SURROGATE = re.compile("[\ud800-\udfff]")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_score(score):
    """Return ``score`` as a number: datetimes become UTC milliseconds since the epoch.

    Naive datetimes are read as UTC, never as the server's local time (the original
    timak used ``strftime("%s")``, which reads them as local time).
    """
    if isinstance(score, datetime):
        if score.tzinfo is None:
            score = score.replace(tzinfo=timezone.utc)
        delta = score - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    if isinstance(score, date):
        return to_score(datetime(score.year, score.month, score.day))
    try:
        core.check_score(score)
    except (TypeError, ValueError) as e:
        raise InvalidScore(f"score must be a datetime, a date or a finite number: {e}") from e
    return score


def check_key(key) -> None:
    """Raise InvalidKey unless ``key`` is a non-empty string a store can hold."""
    if not isinstance(key, str):
        raise InvalidKey(f"a timeline key must be a str, not {type(key).__name__}")
    if not key:
        raise InvalidKey("a timeline key cannot be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"a timeline key is at most {MAX_KEY_LENGTH} characters, not {len(key)}")
    if _CONTROL.search(key):
        raise InvalidKey(f"a timeline key cannot hold control characters: {key!r}")
    if _SURROGATE.search(key):
        raise InvalidKey(f"a timeline key cannot hold a lone surrogate: {key!r}")


def check_id(uniq_id) -> None:
    """Raise InvalidTimelineInput unless ``uniq_id`` is an int or a short string."""
    if isinstance(uniq_id, bool) or not isinstance(uniq_id, (int, str)):
        raise InvalidTimelineInput(f"an item id must be an int or a str, not {type(uniq_id).__name__}")
    if isinstance(uniq_id, str) and not 0 < len(uniq_id) <= MAX_ID_LENGTH:
        raise InvalidTimelineInput(f"a string id must hold 1 to {MAX_ID_LENGTH} characters")
    if isinstance(uniq_id, str) and _SURROGATE.search(uniq_id):
        raise InvalidTimelineInput(f"an item id cannot hold a lone surrogate: {uniq_id!r}")


def check_clock(modified) -> None:
    """Raise InvalidTimelineInput unless ``modified`` is a positive int clock."""
    if isinstance(modified, bool) or not isinstance(modified, int) or modified < 1:
        raise InvalidTimelineInput(f"modified must be a positive int, not {modified!r}")


def make_entry(uniq_id, score, data, clock, deleted=False, actor=None) -> Entry:
    """Return the validated entry of one change (its clock checked by the caller)."""
    check_id(uniq_id)
    if deleted:
        return tombstone(uniq_id, clock, 0 if score is None else to_score(score), detached=data == core.DETACHED)
    if data is not None:
        codecs.dumps_data(data)
    if isinstance(actor, str) and _SURROGATE.search(actor):
        raise InvalidTimelineInput(f"an actor cannot hold a lone surrogate: {actor!r}")
    return Entry(uniq_id, to_score(score), clock, data, False, actor)
