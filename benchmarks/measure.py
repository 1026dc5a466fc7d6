"""Timing: medians of repeated runs with their spread, subject and floor interleaved.

The machine is shared, so absolute times drift with other load; running a case and
its floor in alternation exposes both to the same load, and their ratio holds.
"""

import gc
import statistics
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Stats:
    """The median of some samples and their interquartile range."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, samples) -> "Stats":
        samples = sorted(samples)
        if len(samples) < 2:
            return cls(samples[0], samples[0], samples[0], len(samples))
        low, _, high = statistics.quantiles(samples, n=4, method="inclusive")
        return cls(statistics.median(samples), low, high, len(samples))

    def scaled(self, factor: float) -> "Stats":
        """Return the same statistics in another unit (``factor`` > 0)."""
        return Stats(self.median * factor, self.low * factor, self.high * factor, self.runs)

    def rate(self, count: int) -> "Stats":
        """Return ``count`` per second for durations in seconds (the quartiles swap)."""
        return Stats(count / self.median, count / self.high, count / self.low, self.runs)


def timed(fn) -> float:
    """Return the seconds one call of ``fn`` takes, with the garbage collector paused."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    finally:
        gc.enable()


def repeat(fn, runs: int, setup=None) -> Stats:
    """Return the statistics of ``runs`` timed calls of ``fn`` (``setup`` untimed before each)."""
    samples = []
    for _ in range(runs):
        if setup is not None:
            setup()
        samples.append(timed(fn))
    return Stats.of(samples)


def compare(subject, floor, runs: int) -> tuple[Stats, Stats]:
    """Time ``subject`` and ``floor`` in alternation; return their statistics."""
    subject_times, floor_times = [], []
    for _ in range(runs):
        subject_times.append(timed(subject))
        floor_times.append(timed(floor))
    return Stats.of(subject_times), Stats.of(floor_times)
