"""A hybrid logical clock for ``Entry.clock``.

Values are wall-clock milliseconds shifted left 16 bits, plus a counter. A writer
passes the greatest clock it has read, so its write orders after everything it saw
even when its own wall clock lags (the original timak compared raw wall clocks, so a
writer with a slow clock could lose a delete to an older add).
"""

import threading
import time

COUNTER_BITS = 16


def wall_clock(ms: int) -> int:
    """Return the clock value for a wall-clock time in milliseconds."""
    return ms << COUNTER_BITS


def clock_ms(value: int) -> int:
    """Return the wall-clock milliseconds part of a clock value."""
    return value >> COUNTER_BITS


class HybridClock:
    """A thread-safe, strictly increasing clock that never runs behind what it saw."""

    def __init__(self, time_ms=None):
        self._time_ms = time_ms or (lambda: time.time_ns() // 1_000_000)
        self._last = 0
        self._lock = threading.Lock()

    def now(self, seen: int = 0) -> int:
        """Return a value greater than every earlier one and than ``seen``."""
        with self._lock:
            value = max(wall_clock(self._time_ms()), self._last + 1, seen + 1)
            self._last = value
            return value


default_clock = HybridClock()
