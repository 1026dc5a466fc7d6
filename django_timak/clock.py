"""A hybrid logical clock for ``Entry.clock``.

Values are wall-clock milliseconds shifted left 16 bits; the low 16 bits hold the
time within the millisecond (about 15 ns a step), and count on when the clock must
move past a value it has seen. So two processes on one machine order their stamps
as their moments happened: a delete stamped after a backfill's read, in another
process, still stamps later. A writer passes the greatest clock it has read, so its
write orders after everything it saw even when its own wall clock lags (the original
timak compared raw wall clocks, so a writer with a slow clock could lose a delete to
an older add).
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


def wall_now() -> int:
    """Return the clock value of this moment, to a fraction of a millisecond."""
    return time.time_ns() * (1 << COUNTER_BITS) // 1_000_000


class HybridClock:
    """A thread-safe, strictly increasing clock that never runs behind what it saw.

    ``time_ms`` replaces the wall clock with a function of milliseconds (for tests).
    """

    def __init__(self, time_ms=None):
        self._wall = (lambda: wall_clock(time_ms())) if time_ms else wall_now
        self._last = 0
        self._lock = threading.Lock()

    def now(self, seen: int = 0) -> int:
        """Return a value greater than every earlier one and than ``seen``."""
        with self._lock:
            value = max(self._wall(), self._last + 1, seen + 1)
            self._last = value
            return value


default_clock = HybridClock()
