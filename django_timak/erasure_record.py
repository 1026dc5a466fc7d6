"""The store-wide erasure record: which actors are erased, one small grow-only CRDT per store.

It lives under the reserved key ``ERASURE_KEY`` beside the timelines, as a map
``{actor: clock}`` of erased actors to the clock of their erasure. Erasing appends
a one-actor value blind; concurrent erasures, Riak siblings and appended values all
join by union, the greater clock kept per actor, so no erasure is ever lost and the
join is commutative, associative and idempotent. Every page reads it in the same
``read_many`` as the timeline (no extra round trip), and the decoded set is cached
by the stored bytes, as ``pages.source_view`` caches a pulled source.

Every write that re-encodes a value (a read's or an append's compaction, a
read-merge-write) leaves the erased actors' items out of it, as ``purge_actors``
does: all of an erased actor's items, whatever their clocks, since every read hides
them all. An entry is kept forever: about 30 bytes per erased actor, a price paid
once per account deleted, and what keeps any delayed write of an erased actor's item
(an outbox drained late, a stale sibling) hidden after physical removal.
"""

import functools
import json
import logging
import time

from . import codecs, groups
from .exceptions import CorruptValue, TimelineBackendError, WriteConflict
from .exclusions import check_actors, keep
from .inputs import check_key

logger = logging.getLogger("django_timak")

#: The reserved key of the erasure record in every store (a timeline cannot be named so by declarations).
ERASURE_KEY = "timak:erased"
MAGIC = b"tkE1"
#: Seconds a writer to a networked store relies on the record it last read (see ``Erasing._read_with_erased``).
KNOWN_FOR = 60.0

_dumps = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode


def encode(record: dict) -> bytes:
    """Return the stored bytes of ``{actor: clock}``, as pairs so that int actors read back as ints."""
    return MAGIC + _dumps([[actor, clock] for actor, clock in sorted(record.items(), key=lambda i: (isinstance(i[0], str), i[0]))]).encode()


def decode(value: bytes) -> dict:
    """Return ``{actor: clock}`` of one stored value; raise CorruptValue for foreign bytes."""
    if bytes(value[:4]) != MAGIC:
        raise CorruptValue(f"not a django-timak erasure record (header {bytes(value[:4])!r})")
    try:
        return {actor: clock for actor, clock in json.loads(bytes(value[4:]))}
    except (ValueError, TypeError) as e:
        raise CorruptValue(f"cannot decode a django-timak erasure record: {e}") from e


def join(*records: dict) -> dict:
    """Return the union of records, the greatest clock kept per actor."""
    joined = {}
    for record in records:
        for actor, clock in record.items():
            if clock > joined.get(actor, -1):
                joined[actor] = clock
    return joined


@functools.lru_cache(maxsize=8)
def erased(values: tuple) -> frozenset:
    """Return the erased actors of the values stored under ``ERASURE_KEY``, decoded once per distinct bytes."""
    return frozenset(join(*(decode(v) for v in values)))


class Erasing:
    """The erasure half of ``Timeline``: record an erased actor, read the record, purge a key of them."""

    def erase_actor(self, actor) -> None:
        """Erase ``actor`` from every timeline of this store: from the next read on, no page shows their items.

        One blind append to the erasure record; the items are removed from each
        value later, by ``purge_actors`` (``manage.py timak_erase``).
        """
        (actor,) = check_actors([actor], "actor")
        count = self.backend.append(ERASURE_KEY, encode({actor: self.clock.now(0)}))
        known = getattr(self, "_erased_known", None)
        if known is not None:
            self._erased_known = (known[0], known[1] | {actor})
        if count >= self.compact_on_append:
            versioned = self.backend.read(ERASURE_KEY)
            joined = join(*(decode(v) for v in versioned.values))
            try:
                self.backend.write(ERASURE_KEY, encode(joined), versioned.token)
            except (WriteConflict, TimelineBackendError) as e:
                logger.warning("timak: compacting the erasure record failed (the erasure is stored): %s", e)

    def erased_actors(self) -> frozenset:
        """Return the actors erased from this store."""
        return self._note_erased(self.backend.read(ERASURE_KEY))

    def _note_erased(self, versioned) -> frozenset:
        """Return the erased actors of the record as read, remembered for ``_read_with_erased``."""
        actors = erased(tuple(bytes(v) for v in versioned.values))
        self._erased_known = (time.monotonic(), actors)
        return actors

    def _read_with_erased(self, keys) -> tuple[dict, frozenset]:
        """Return ``read_many(keys)`` and the erased actors, for a write that re-encodes what it read.

        A local store (database, memory) reads the record in the same ``read_many``:
        one more key in the same query. On a networked store (Riak) that is one more
        GET beside the key's, which the test server measured at twice the cost of the
        read alone, so the record this Timeline last read is trusted for ``KNOWN_FOR``
        seconds. A write that misses a newer erasure only keeps those items stored
        until the next compaction or ``purge_actors``: every read hides them.
        """
        known = getattr(self, "_erased_known", None)
        if self.backend.networked and known is not None and time.monotonic() - known[0] < KNOWN_FOR:
            return self.backend.read_many(keys), known[1]
        if ERASURE_KEY in keys:
            found = self.backend.read_many(keys)
            return found, self._note_erased(found[ERASURE_KEY])
        found = self.backend.read_many([*keys, ERASURE_KEY])
        return found, self._note_erased(found.pop(ERASURE_KEY))

    def _read_merged(self, key):
        """Return ``(versioned, merged value without the erased actors' items, erased actors)`` of ``key``."""
        found, actors = self._read_with_erased([key])
        versioned = found[key]
        return versioned, forget_erased(self._merged(versioned), actors), actors

    def _read_erased(self, key):
        """Return ``(merged value of key, erased actors)`` from one ``read_many``, compacting the key (without them) if due."""
        check_key(key)
        found = self.backend.read_many([key, ERASURE_KEY])
        versioned = found[key]
        stored = self._merged(versioned)
        actors = self._note_erased(found[ERASURE_KEY])
        if len(versioned.values) >= self.compact_on_read:
            # The write-back of a read forgets the erased actors' items: they are read-hidden already.
            self._repair(key, without_actors(stored, actors) if actors else stored, versioned.token)
        return stored, actors

    def purge_actors(self, key: str, actors) -> bool:
        """Rewrite ``key`` without the items and group members of ``actors``; return True if it held any.

        Physical removal after ``erase_actor``: the read-time exclusion already hides
        them, this makes the stored value forget their data.
        """
        return key in self.purge_actors_many([key], actors)

    def purge_actors_many(self, keys, actors, chunk: int = 500) -> set:
        """Purge many keys as ``purge_actors`` does, a ``read_many`` and a ``write_many`` per chunk; return the keys that held any.

        A key holding one value that certainly names none of ``actors`` (``may_hold``) is left undecoded.
        """
        removed = check_actors(actors, "actors")
        keys = list(keys)
        held = set()
        for attempt in range(self.max_attempts):
            conflicted = []
            for start in range(0, len(keys), chunk):
                writes = {}
                for key, versioned in self.backend.read_many(keys[start : start + chunk]).items():
                    if not versioned.values:
                        continue
                    if len(versioned.values) == 1 and not may_hold(bytes(versioned.values[0]), removed):
                        continue
                    stored = self._merged(versioned)
                    purged = without_actors(stored, removed)
                    if purged != stored:
                        held.add(key)
                    if purged != stored or len(versioned.values) > 1:
                        writes[key] = (self._encode(purged), versioned.token)
                conflicted += self.backend.write_many(writes) if writes else ()
            if not conflicted:
                return held
            keys = conflicted
        raise WriteConflict(f"gave up purging {keys[0]!r} after {self.max_attempts} conflicting writes", key=keys[0])


#: A group's data key as JSON spells it: a block whose JSON lacks it holds no group, so no member's actor.
_GROUP_MARK = json.dumps(groups.GROUP).encode()


def may_hold(value: bytes, removed: frozenset) -> bool:
    """Return False only if one stored value certainly holds no live item nor group member of ``removed``.

    A purge then leaves it without decoding it, which most keys of a store are. A
    version 2 value lists its live items' actors in its head; a group member's actor
    is in its block's JSON, spelled as JSON spells it, so a block is decompressed and
    searched, not decoded. Anything less certain (a version 1 value, a block of groups
    whose JSON spells an actor, if only as a score's digits) answers True: the value
    is decoded whole, as before.
    """
    blocks = codecs.open_blocks(value)
    if blocks is None:
        return True
    if any(actor.__class__ in (str, int) and actor in removed for actor in blocks.actors()):
        return True
    spelled = _spellings(removed)
    for number in range(blocks.blocks):
        raw = blocks.raw(number)
        if _GROUP_MARK in raw and (spelled is None or any(spelling in raw for spelling in spelled)):
            return True
    return False


def _spellings(removed: frozenset):
    """Return every way a block's JSON may spell the actors of ``removed`` (an int as its digits); None if unsure.

    A string that UTF-8 cannot hold has no spelling to search: None sends the value
    to a whole decode.
    """
    try:
        return {json.dumps(actor, ensure_ascii=ascii).encode() for actor in removed for ascii in (False, True)}
    except UnicodeEncodeError:
        return None


def forget_erased(value, actors: frozenset):
    """Return a value to write without the erased actors' items: ``value`` itself when it holds none (or is None)."""
    if value is None or not actors:
        return value
    kept = without_actors(value, actors)
    return value if kept == value else kept


def without_actors(stored, removed: frozenset) -> list:
    """Return a stored value without the live items and group members of ``removed`` actors."""
    purged = []
    for entry in stored:
        shown = entry if entry.deleted else keep(entry, removed)
        if shown is not None:
            purged.append(shown)
    return purged
