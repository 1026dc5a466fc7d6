"""Appending: fan-out's changes stored beside what a key holds, without reading it.

``Appending`` is the append half of ``Timeline``; it compacts through ``Timeline._write``,
and like every write that re-encodes a value, a compaction leaves erased actors' items out.
"""

import logging

from . import codecs, entries as core
from .entries import Entry
from .erasure_record import forget_erased
from .exceptions import TimelineBackendError, TooManySiblings, ValueTooLarge
from .inputs import check_clock, check_key, make_entry

logger = logging.getLogger("django_timak")


class Appending:
    """Blind appends of ``Entry`` changes, and the compaction they trigger."""

    def append_changes(self, changes_by_key: dict[str, list[Entry]]) -> None:
        """Append each key's ``Entry`` changes beside what it holds, without reading it.

        For fan-out: one small value per key, in one ``append_many``. Each change
        carries its own clock, as for ``replay``, so changes applied late, twice or in
        any order give the same timeline. Identical change lists (one post fanned out
        to many keys) are validated and encoded once. Everything is validated before
        the first write, so bad input writes nothing. A key left holding
        ``compact_on_append`` values or more is then compacted; a failure there only
        delays the compaction, the changes are stored. A key the store refuses to
        give one more value (``TooManySiblings``) is compacted and the batch appended again.
        """
        encoded = {}
        checked = {}  # id(change) -> its validated entry: a change shared by many keys is checked once
        values = {}
        for key, changes in changes_by_key.items():
            check_key(key)
            fingerprint = tuple((c.id, c.score.__class__, c.score, c.clock, c.deleted, id(c.data), c.actor) for c in changes)
            value = encoded.get(fingerprint)
            if value is None:
                value = encoded[fingerprint] = self._encode_changes(changes, checked)
            values[key] = value
        if not values:
            return
        try:
            counts = self.backend.append_many(values)
        except TooManySiblings as e:
            # A key whose compactions kept failing; appending again is harmless, a
            # value appended twice merges once.
            self._compact(e.key)
            counts = self.backend.append_many(values)
        self._compact_many([key for key, count in counts.items() if count >= self.compact_on_append])

    def _encode_changes(self, changes, checked: dict) -> bytes:
        """Return one appended value holding ``changes``: validated (once each, in ``checked``), resolved per id and ordered."""
        entries = []
        for change in changes:
            entry = checked.get(id(change))
            if entry is None:
                check_clock(change.clock)
                entry = checked[id(change)] = make_entry(
                    change.id, change.score, change.data, change.clock, change.deleted, change.actor
                )
            entries.append(entry)
        # An appended value drops no tombstone: the deletes it carries are all news.
        kept = max(self.max_tombstones, len(entries))
        return codecs.encode(core.merge(entries, capacity=self.capacity, tombstones=kept, order=self.order))

    def _compact_many(self, keys):
        """Merge every value each of ``keys`` holds into one: one read and one write call for them all.

        The keys of one fan-out fill up together, so a post compacts all its followers'
        keys at once; one call each (one query, one commit on the database) keeps that
        from costing a transaction per key. The erasure record rides in the same read
        (``Erasing._read_with_erased``), so the erased actors' items are left out.
        A key written meanwhile is left to its next append or read; a failure is
        logged, and only delays the compaction.
        """
        if not keys:
            return
        decoded = {}  # the keys hold the same appended values (one fan-out's): each is decoded once

        def merged(values):
            found = [decoded.get(v) or decoded.setdefault(v, codecs.decode(v)) for v in values]
            return core.merge(*found, capacity=self.capacity, tombstones=self.max_tombstones, order=self.order)

        try:
            found, erased_now = self._read_with_erased(keys)
            self.backend.write_many({
                key: (self._encode(forget_erased(merged(v.values), erased_now)), v.token)
                for key, v in found.items() if len(v.values) > 1
            })
        except (TimelineBackendError, ValueTooLarge) as e:
            shown = repr(keys[0]) if len(keys) == 1 else f"{len(keys)} keys ({keys[0]!r}, ...)"
            logger.warning("timak: compaction of %s failed: %s", shown, e)

    def _compact(self, key):
        """Merge every value ``key`` holds into one; a failure is logged, the next read or append compacts."""
        try:
            self._write(key, (), compact_at=2)
        except (TimelineBackendError, ValueTooLarge) as e:
            logger.warning("timak: compaction of %r failed: %s", key, e)
