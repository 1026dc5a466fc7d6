"""The result rows: one table for people, one JSON document for tools."""

import json
import platform
import os
from dataclasses import asdict, dataclass

from .measure import Stats


@dataclass(frozen=True)
class Row:
    """One figure, its floor, and whether it meets its target.

    ``ratio`` is the figure over its floor in cost (times as slow, times as large);
    for a speed-up row it is the speed-up itself, as its ``target`` says.
    """

    case: str
    variant: str
    unit: str
    value: Stats
    floor: float | None = None
    floor_name: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None


def ratio_row(case, variant, unit, value: Stats, floor: Stats, floor_name, limit=None, scale=1.0) -> Row:
    """Return a row of a cost (time) against its floor, met if the ratio is at most ``limit``."""
    ratio = value.median / floor.median
    return Row(
        case, variant, unit, value.scaled(scale), floor.median * scale, floor_name, ratio,
        f"<= {limit:g}x" if limit else "", (ratio <= limit) if limit else None,
    )


def _number(x):
    if x is None:
        return "-"
    if x >= 1000:
        return f"{x:,.0f}"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


COLUMNS = ("case", "variant", "median", "IQR", "unit", "floor", "x floor", "target", "met")


def table(rows: list[Row]) -> str:
    """Return the rows as a fixed-width text table (also valid reStructuredText)."""
    cells = [COLUMNS]
    for row in rows:
        spread = "-" if row.value.low == row.value.high else f"{_number(row.value.low)}-{_number(row.value.high)}"
        met = {True: "met", False: "NOT MET", None: ""}[row.met]
        cells.append((
            row.case, row.variant, _number(row.value.median), spread, row.unit, _number(row.floor),
            "-" if row.ratio is None else f"{row.ratio:.2f}", row.target, met,
        ))
    widths = [max(len(str(line[i])) for line in cells) for i in range(len(COLUMNS))]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule, "  ".join(str(c).ljust(w) for c, w in zip(cells[0], widths)).rstrip(), rule]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip() for line in cells[1:]]
    lines.append(rule)
    return "\n".join(lines)


def machine() -> dict:
    """Return what the figures ran on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": _cpu_model(),
        "cpus": os.cpu_count(),
    }


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def document(rows: list[Row], mode: str, seconds: float) -> str:
    """Return the JSON of a run."""
    return json.dumps(
        {"mode": mode, "seconds": round(seconds, 1), "machine": machine(), "rows": [asdict(row) for row in rows]},
        indent=1,
    )
