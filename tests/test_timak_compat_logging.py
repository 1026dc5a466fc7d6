"""A read repair that loses the race to a concurrent writer is logged at DEBUG; a real failure stays a WARNING."""

import logging

import pytest

from django_timak import Timeline
from django_timak.backends.memory import MemoryBackend
from django_timak.exceptions import TimelineBackendError, WriteConflict


class RacedBackend(MemoryBackend):
    """A store whose writes fail with ``error`` while ``failing`` (a concurrent writer, or an outage)."""

    def __init__(self, error):
        super().__init__(allow_mult=True)
        self.error = error
        self.failing = False

    def write(self, key, value, token):
        if self.failing:
            raise self.error
        super().write(key, value, token)


def crowded(error):
    """Return a timeline whose key holds enough appended values for a read to repair it."""
    backend = RacedBackend(error)
    timeline = Timeline(backend, compact_on_read=2, compact_on_append=100)
    for n in range(3):
        timeline.append_changes({"k": [timeline.add_many("scratch", [(n, n, None)])[0]]})
    backend.failing = True
    return timeline


def test_a_read_repair_beaten_by_a_concurrent_write_is_logged_at_debug(caplog):
    timeline = crowded(WriteConflict("'k' changed since it was read", key="k"))
    with caplog.at_level(logging.DEBUG, logger="django_timak"):
        assert timeline.get("k") == [2, 1, 0]
    [record] = [r for r in caplog.records if "read repair" in r.getMessage()]
    assert record.levelno == logging.DEBUG


def test_a_read_repair_that_fails_otherwise_is_a_warning(caplog):
    timeline = crowded(TimelineBackendError("connection refused", key="k"))
    with caplog.at_level(logging.DEBUG, logger="django_timak"):
        assert timeline.get("k") == [2, 1, 0]
    [record] = [r for r in caplog.records if "read repair" in r.getMessage()]
    assert record.levelno == logging.WARNING
