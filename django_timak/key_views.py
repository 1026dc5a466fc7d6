"""What a page merged over several keys reads of each key: its shown items in order, its deletes, its ids.

A key holding one version 2 value with an id list is read in part (``BlockView``):
its tombstones and ids come from the value's head and id list, its items block by
block as the merge walks down, so a first page decompresses about one block per
key. Anything else is decoded whole (``WholeView``): version 1 values (one body),
values of one block or written before the id list, and a key's merged siblings.

Every view answers the same questions, and the entry a walk yields is the very
object ``version`` returns for its id, since the merge tells winners by identity.
"""

import bisect
import functools
import itertools

from . import codecs, entries as core
from .entries import Entry


def _deletes(tombstones) -> dict:
    """Return ``{id: tombstone}`` of a key's deletes.

    Deletes hide an item in every key; detachments only in their own key (where it is not live).
    """
    found = {}
    for entry in tombstones:
        if not core.is_detached(entry):
            current = found.get(entry.id)
            if current is None or core.wins(entry, current):
                found[entry.id] = entry
    return found


class WholeView:
    """A key's value decoded whole: what ``merged_entries`` has always read."""

    def __init__(self, stored: list[Entry], max_items: int):
        live = core.live(stored)
        self.shown = tuple(live[:max_items])
        self.deleted = _deletes(stored[len(live) :])
        self.ids = frozenset(e.id for e in self.shown)
        self.live_count = len(live)
        self._by_id = None

    def walk(self):
        return iter(self.shown)

    def version(self, id_) -> Entry:
        if self._by_id is None:
            self._by_id = {e.id: e for e in self.shown}
        return self._by_id[id_]


class BlockView:
    """A version 2 value read in part: blocks decompressed as the walk reaches them, each once.

    Decoded blocks are kept (a source's view is cached while its bytes are unchanged),
    first come first kept, so that two threads walking one cached view see the same entries.
    """

    def __init__(self, blocks: codecs.Blocks, ids: list, max_items: int):
        self._source, self._blocks = blocks, {}
        self.deleted = _deletes(blocks.tombstones())
        self._ids = ids[:max_items]
        self.ids = frozenset(self._ids)
        self.live_count = blocks.count
        self._where = None

    def _block(self, number: int) -> list[Entry]:
        found = self._blocks.get(number)
        if found is None:
            found = self._blocks.setdefault(number, self._source.block(number))
        return found

    def walk(self):
        left = len(self._ids)
        for number in range(self._source.blocks):
            if left <= 0:
                return
            block = self._block(number)
            yield from block[:left]
            left -= len(block)

    def version(self, id_) -> Entry:
        if self._where is None:
            self._starts = list(itertools.accumulate(self._source.counts, initial=0))
            self._where = {found: n for n, found in enumerate(self._ids)}
        at = self._where[id_]
        number = bisect.bisect_right(self._starts, at) - 1
        return self._block(number)[at - self._starts[number]]


def open_view(value: bytes, max_items: int):
    """Return the view of a key holding the one stored value ``value``: in part where its layout allows."""
    blocks = codecs.open_blocks(value)
    ids = None if blocks is None else blocks.ids()
    if ids is None:
        return WholeView(codecs.decode(value), max_items)
    return BlockView(blocks, ids, max_items)


#: How many source values stay open (their decoded blocks kept) in each process.
SOURCE_CACHE_SIZE = 64


class _Value:
    """Stored bytes as a cache key: hashed by their length and ends, compared whole.

    Hashing a source's whole value (tens of KB, new bytes on every read) cost more
    than the rest of its part in a page; equal bytes still compare equal, so a hit
    is exact, and values that share ends only share a hash bucket.
    """

    __slots__ = ("value", "_hash")

    def __init__(self, value: bytes):
        self.value, self._hash = value, hash((len(value), value[:96], value[-32:]))

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        return other.__class__ is _Value and self.value == other.value


@functools.lru_cache(maxsize=SOURCE_CACHE_SIZE)
def _opened(value: _Value, max_items: int):
    return open_view(value.value, max_items)


def source_view(value: bytes, max_items: int):
    """Return the view of a source key holding one value, opened once per process while it is unchanged.

    A pulled author's key is read by every follower's page until it changes, so its
    bytes repeat: they are compared, not opened again, and the blocks a page already
    decoded are not decoded again.
    """
    return _opened(_Value(value), max_items)


source_view.cache_clear = _opened.cache_clear
