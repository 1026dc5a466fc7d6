"""Argument types and checks shared by the management commands: bad values get a sentence, not a traceback."""

import argparse

from django.core.management.base import CommandError
from django.db import connections


def positive_int(text: str) -> int:
    """Parse a whole number of at least 1 (a count of batches)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def seconds(text: str) -> float:
    """Parse a number of seconds of at least 0 (a sleep)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds of at least 0, not {text!r}")
    return value


def check_database(alias: str | None) -> None:
    """Raise CommandError unless ``alias`` (None: the default) is in ``DATABASES``."""
    if alias is not None and alias not in connections:
        known = ", ".join(sorted(connections.settings)) or "none"
        raise CommandError(f"--database {alias!r} is not in DATABASES (there: {known}).")
