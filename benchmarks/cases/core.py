"""Cases 1-3: the core's add, page and sibling merge against the codec's own cost.

The floor of a change is what any design storing one value per key must pay: decode
the value and encode the new one. Everything the timeline does beyond that (merging,
ordering, trimming, validation) shows as the ratio over the floor.
"""

from django_timak import codecs
from django_timak.backends.base import BaseBackend, Versioned
from django_timak.backends.memory import MemoryBackend
from django_timak.entries import Entry, merge, tombstone
from django_timak.erasure_record import ERASURE_KEY
from django_timak.timeline import Timeline

from ..items import entries, items
from ..measure import compare
from ..report import ratio_row

KEY = "user:1:home"
SIZE = 1000
COMPRESSORS = (None, "zlib", "zstd")
SIBLING_COUNTS = (2, 5, 10, 25)


class FrozenSiblings(BaseBackend):
    """A store whose key always holds the same siblings: every read merges them again.

    Writes (the read repair) are accepted and dropped, as if another writer had
    created the siblings anew right after.
    """

    def __init__(self, values):
        self.values = values

    def read(self, key):
        if key == ERASURE_KEY:  # the store-wide erasure record, read beside every key: empty
            return Versioned([], None)
        return Versioned(list(self.values), "frozen")

    def write(self, key, value, token):
        pass


def _label(compress):
    return compress or "uncompressed"


def add(compress, config):
    """Case 1: add one newer item to a full timeline (it pushes the oldest out)."""
    timeline = Timeline(MemoryBackend(), max_items=SIZE, compress=compress)
    timeline.add_many(KEY, items(SIZE))
    news = iter(items(config.batch * config.runs * 2, start=SIZE))

    def subject():
        for _ in range(config.batch):
            timeline.add(KEY, *next(news))

    def floor():
        value = timeline.backend.read(KEY).values[0]
        for _ in range(config.batch):
            codecs.encode(codecs.decode(value), compress)

    spent, least = compare(subject, floor, config.runs)
    scale = 1000 / config.batch
    return ratio_row("1 add", f"memory, {_label(compress)}", "ms", spent, least, "decode + encode", 2, scale)


def page(compress, config):
    """Case 2: the first page of 20 items of a full timeline."""
    timeline = Timeline(MemoryBackend(), max_items=SIZE, compress=compress)
    timeline.add_many(KEY, items(SIZE))
    value = timeline.backend.read(KEY).values[0]

    def subject():
        for _ in range(config.batch):
            timeline.page(KEY, limit=20)

    def floor():
        for _ in range(config.batch):
            codecs.decode(value)

    spent, least = compare(subject, floor, config.runs)
    scale = 1000 / config.batch
    return ratio_row("2 page(20)", f"memory, {_label(compress)}", "ms", spent, least, "decode", 1.5, scale)


def siblings(count: int) -> list[bytes]:
    """Return ``count`` concurrent values grown from one full timeline.

    Each writer added 10 new items and deleted 2 old ones, as concurrent fan-outs do.
    """
    base = entries(SIZE)
    values = []
    for writer in range(count):
        clock = base[0].clock + writer + 1
        news = [Entry(i, s, clock, d) for i, s, d in items(10, start=SIZE + writer * 10)]
        gone = [tombstone(e.id, clock, e.score) for e in base[writer * 2 : writer * 2 + 2]]
        values.append(codecs.encode(merge(base, news + gone, capacity=SIZE, tombstones=100)))
    return values


def merge_siblings(count, config):
    """Case 3: read a key holding ``count`` siblings (merge and read repair)."""
    values = siblings(count)
    timeline = Timeline(FrozenSiblings(values), max_items=SIZE)
    decoded = [codecs.decode(value) for value in values]
    merged = merge(*decoded, capacity=timeline.capacity, tombstones=timeline.max_tombstones)
    batch = max(1, config.batch // count)

    def subject():
        for _ in range(batch):
            timeline.get(KEY)

    def floor():
        for _ in range(batch):
            [codecs.decode(value) for value in values]
            codecs.encode(merged)

    spent, least = compare(subject, floor, config.runs)
    return ratio_row("3 merge", f"{count} siblings", "ms", spent, least, f"{count} decodes + encode", 2, 1000 / batch)


def run(config):
    rows = [add(compress, config) for compress in COMPRESSORS]
    rows += [page(compress, config) for compress in COMPRESSORS]
    rows += [merge_siblings(count, config) for count in SIBLING_COUNTS]
    return rows
