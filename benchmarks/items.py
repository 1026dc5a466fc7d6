"""Realistic timeline items: a row reference, a time, and about 140 characters of text.

Text is drawn from common English words with Zipf-like frequencies, so compressors
meet the redundancy of real posts (random letters would compress too little, one
repeated string far too well). A fixed seed makes every run store the same bytes.
"""

import random

from django_timak.clock import wall_clock
from django_timak.entries import Entry

WORDS = (
    "the of and to a in is you that it he was for on are as with his they I at be this have from or one had "
    "by word but not what all were we when your can said there use an each which she do how their if will "
    "up other about out many then them these so some her would make like him into time has look two more "
    "write go see number no way could people my than first water been call who oil its now find long down "
    "day did get come made may part over new sound take only little work know place year live me back give "
    "most very after thing our just name good sentence man think say great where help through much before "
    "line right too mean old any same tell boy follow came want show also around form three small set put "
    "end does another well large must big even such because turn here why ask went men read need land "
    "different home us move try kind hand picture again change off play spell air away animal house point"
).split()
_WEIGHTS = [1 / (rank + 1) for rank in range(len(WORDS))]

#: Milliseconds between two consecutive items' scores (one post a minute).
STEP_MS = 60_000
START_MS = 1_700_000_000_000


def text(rng: random.Random, length: int = 128) -> str:
    """Return a sentence of about ``length`` characters."""
    words = []
    size = 0
    while size < length:
        word = rng.choices(WORDS, _WEIGHTS)[0]
        words.append(word)
        size += len(word) + 1
    return " ".join(words)[:length].rstrip().capitalize() + "."


def item(pk: int, rng: random.Random) -> tuple:
    """Return the ``(id, score, data)`` of post ``pk``: newer posts score higher."""
    return f"tests.post:{pk}", START_MS + pk * STEP_MS, {"text": text(rng)}


def items(count: int, start: int = 0, seed: int = 6) -> list[tuple]:
    """Return ``count`` items of consecutive posts from ``start``."""
    rng = random.Random(seed * 1_000_003 + start)
    return [item(pk, rng) for pk in range(start, start + count)]


def entries(count: int, start: int = 0, seed: int = 6) -> list[Entry]:
    """Return the stored entries of ``items()``, newest first, as a timeline holds them."""
    found = [Entry(i, s, wall_clock(s), d) for i, s, d in items(count, start, seed)]
    return found[::-1]
