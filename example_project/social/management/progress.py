"""A one-line progress bar for management commands, drawn only on a terminal."""

import time


class Progress:
    """Redraw ``label [####----] done/total  rate/s  eta`` in place on ``stream``.

    Silent when the stream is not a terminal (a pipe, a log file, a test), so output
    that is kept stays free of carriage returns.
    """

    width = 30

    def __init__(self, stream, label: str, total: int, *, enabled: bool = True):
        self.stream = stream
        self.label = label
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.drawn = 0.0
        self.enabled = enabled and total > 0 and stream.isatty()

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if self.enabled and (now - self.drawn >= 0.1 or self.done >= self.total):
            self.drawn = now
            self._draw(now - self.started)

    def close(self) -> float:
        """End the line; return the seconds elapsed."""
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
        return time.monotonic() - self.started

    def _draw(self, elapsed: float) -> None:
        filled = self.width * self.done // self.total
        rate = self.done / elapsed if elapsed else 0.0
        eta = (self.total - self.done) / rate if rate else 0.0
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(
            f"\r{self.label:<8} [{bar}] {self.done}/{self.total}  {rate:,.0f}/s  eta {eta:,.0f}s ", ending=""
        )
        self.stream.flush()
