"""Rebuilding declared timelines from the database: newest rows first, at most a key's capacity each.

A timeline keeps only its top ``capacity`` items (``max_items`` plus its margin), so a
rebuild need write no more than that per key, however many rows map there. Each pass
streams one model's rows for the fields that share a score field and an order, best
first (by score, then pk), in chunks: one recipients query per chunk and field
(``keys_many``), one entry per row and field, shared by its keys. Per key it counts
what it accepted and the lowest score among it; once a key holds ``capacity`` items
(groups, for a grouped field), a row scored strictly lower would fall off the end and
is skipped, while ties still land (the id breaks them), and so do more members of a
group already accepted. The order only makes this cheap: the rule holds in any order.

Accepted entries are held per key and appended, one small value per key, without
reading (``Timeline.append_changes``), each time what is held reaches ``memory`` bytes
(an estimate), and at the end of each pass. Every entry of a pass carries the one
clock taken before its query, so a save racing the rebuild stamps later and wins, and
running it twice, or again after an interruption, gives the same visible timelines.
After each flush the rows written are looked up again, and the rows that vanished
meanwhile are deleted again by reference (their own delete may have lost to the adds).
"""

import math
from itertools import islice

from django.core.exceptions import FieldDoesNotExist

from .clock import default_clock
from .entries import Entry, tombstone
from .exceptions import InvalidKey, TimelineConfigError
from .handler import timelines
from .inputs import check_key, to_score
from .operations import append_entries
from .refs import make_ref
from .row_operations import row_item

#: Rows read per chunk (``--batch-size``): one recipients query each, per field.
BATCH_SIZE = 10_000
#: Bytes a rebuild holds, estimated, before it writes what it holds.
MEMORY = 16 * 2**20
#: Keys appended per call, and (key, entry) pairs at most about: what one call encodes and holds at once.
WRITE_KEYS, WRITE_ENTRIES = 1_000, 200_000
#: The estimate: an entry on one key (its reference, then its encoded bytes while it is
#: written), one entry (ids, data), one row to look up again.
REFERENCE_BYTES, ENTRY_BYTES, ROW_BYTES = 80, 320, 160


class Key:
    """What a pass knows of one key: items (or groups) accepted, the lowest rank among them, what it holds."""

    __slots__ = ("count", "edge", "groups", "last", "held")

    def __init__(self, count=0, edge=math.inf):
        self.count, self.edge = count, edge
        self.groups, self.last, self.held = set(), None, []


#: The state of every key a store cannot hold: it accepts nothing.
UNSTORABLE = Key(math.inf, math.inf)
#: The types of key parts looked up by value: equal values of these format alike (``True == 1`` does not).
SIMPLE = frozenset({int, str, type(None)})


def _simple(values) -> bool:
    for value in values:  # a loop, not all(): this runs for every row and field
        if type(value) not in SIMPLE:
            return False
    return True


class Rebuild:
    """One run of ``rebuild_timelines``: what it wrote, cleared, skipped and failed, over its models.

    ``on_chunk(model, rows)`` is called after each chunk (rows read so far of the
    model), ``on_error(alias, key, error)`` for each key whose write failed.
    """

    def __init__(self, *, batch_size=BATCH_SIZE, clear=False, dry_run=False, workers=8, memory=MEMORY,
                 on_chunk=None, on_error=None):
        self.batch_size, self.clear, self.dry_run, self.workers, self.memory = batch_size, clear, dry_run, workers, memory
        self.on_chunk, self.on_error = on_chunk, on_error
        self.keys, self.cleared, self.skipped = set(), set(), set()
        self.failed = 0
        self.down = {}  # alias -> the error of a store that failed: its later keys fail at once

    def model(self, model, fields) -> tuple[int, int, int]:
        """Rebuild ``fields`` of ``model``, one pass per score field and order; return (rows, items, chunks)."""
        rows = items = chunks = 0
        read = 0
        for ordering, group in passes(model, fields):
            counts = self._pass(model, ordering, group, read)
            read += counts[0]
            rows, items, chunks = max(rows, counts[0]), items + counts[1], chunks + counts[2]
        return rows, items, chunks

    def _pass(self, model, ordering, fields, read):
        """Stream the rows in ``ordering``; hold what each key accepts; flush by memory, and at the end."""
        self.states = {}  # alias -> {key: Key}
        self.slots = {}  # field -> {key values: {recipient: Key}}: the keys of a pass, by what they are made of
        self.rows = []  # (pk, reference, entries) of the rows held, to look up again after the flush
        self.held = 0
        shapes = [(field, *_shape(field.timeline)) for field in fields]
        # Stamped before the read: a save racing the rebuild stamps later, and wins.
        clock = default_clock.now()
        rows = items = chunks = 0
        stream = model._base_manager.order_by(*ordering).iterator(chunk_size=self.batch_size)
        while chunk := list(islice(stream, self.batch_size)):
            items += self._take(chunk, shapes, clock)
            rows, chunks = rows + len(chunk), chunks + 1
            chunk = None  # let it go before the next is read: one chunk of rows in memory, not two
            if self.held >= self.memory:
                self._flush(model)
            if self.on_chunk is not None:
                self.on_chunk(model, read + rows)
        self._flush(model)
        self.states = self.slots = {}
        return rows, items, chunks

    def _take(self, chunk, shapes, clock) -> int:
        """Hold each row's entry on the keys that accept it; return how many (key, entry) it held.

        A key is looked up by the parts it is made of (``key_parts_many``), formatted
        once per pass; a row's item is made only once a key accepts it.
        """
        fields = [
            (field, field.key_parts_many(chunk), self.slots.setdefault(field, {}), self.states.setdefault(field.timeline, {}),
             capacity, sign, field.group is not None)
            for field, capacity, sign in shapes
        ]
        accepted = held = 0
        for row in chunk:
            pk = row.pk
            made = []
            for field, parts_by_pk, slots, states, capacity, sign, grouped in fields:
                parts = parts_by_pk.get(pk)
                if parts is None:
                    continue
                values, recipients = parts
                if not recipients:
                    continue
                item = entry = None
                seen = set() if grouped else None  # a grouped field's keys met in this row: a repeated recipient is one key
                if grouped:
                    item = row_item(row, field)  # None: a row whose data cannot be stored is skipped
                    if item is None:
                        continue
                    rank = item[1] * sign
                else:
                    rank = to_score(getattr(row, field.score)) * sign
                by_recipient = None  # parts that may format unlike their equals (1.0, True) are not looked up
                if _simple(values):
                    by_recipient = slots.get(values)
                    if by_recipient is None:
                        by_recipient = slots[values] = {}
                for recipient in recipients:
                    if by_recipient is not None and type(recipient) in SIMPLE:
                        state = by_recipient.get(recipient)
                        if state is None:
                            state = by_recipient[recipient] = self._state(field, states, values, recipient)
                    else:
                        state = self._state(field, states, values, recipient)
                    replace = False
                    if grouped:
                        if state in seen:
                            continue
                        seen.add(state)
                        if item[0] not in state.groups:  # else one more member of a group the key accepted
                            if state.count >= capacity and rank < state.edge:
                                continue  # a new group that would fall off the end of a full key
                            state.groups.add(item[0])
                            state.count += 1
                            state.edge = min(state.edge, rank)
                    elif state.last == pk:
                        replace = True  # two fields of the row on one key: the later one's item, as a save stores
                    elif state.count >= capacity and rank < state.edge:
                        continue  # it would fall off the end of a full key
                    if entry is None:
                        if item is None:
                            item = row_item(row, field)
                            if item is None:  # its data cannot be stored: the row is skipped, nothing was held
                                break
                        entry = Entry(item[0], item[1], clock, item[2], False, item[3])
                        made.append(entry)
                    if replace:
                        state.held[-1] = entry
                        continue
                    if not grouped:
                        state.count += 1
                        state.last = pk
                        if rank < state.edge:
                            state.edge = rank
                    state.held.append(entry)
                    accepted += 1
            if made:
                held += len(made) * ENTRY_BYTES + ROW_BYTES
                self.rows.append((pk, make_ref(row), made))
        self.held += held + accepted * REFERENCE_BYTES
        return accepted

    def _state(self, field, states, values, recipient) -> Key:
        """Return the state of the key of ``values`` and ``recipient``; a key no store can hold accepts nothing."""
        key = field.format_key(values, recipient)
        state = states.get(key)
        if state is not None:
            return state
        try:
            check_key(key)
        except InvalidKey:
            self.skipped.add((field.timeline, key))
            state = UNSTORABLE
        else:
            state = Key()
        states[key] = state
        return state

    def _flush(self, model):
        """Write what every key holds (clearing fresh keys first, with --clear); then delete the rows that vanished."""
        changes = {}
        for alias, states in self.states.items():
            for key, state in states.items():
                if state.held:
                    changes.setdefault(alias, {})[key] = state.held
                    state.held = []
        rows, self.rows, self.held = self.rows, [], 0
        for alias, by_key in changes.items():
            fresh = [key for key in by_key if (alias, key) not in self.keys]
            self.keys.update((alias, key) for key in fresh)
            if self.clear:
                self.cleared.update((alias, key) for key in fresh)
                if not self.dry_run:
                    self._clear_keys(alias, fresh, by_key)
            if not self.dry_run:
                self.write(alias, by_key)
        if not self.dry_run and rows:
            self._forget_vanished(model, rows, changes)

    def _clear_keys(self, alias, keys, by_key):
        """Empty ``keys`` before their first write; a key that cannot be emptied fails, and is not written."""
        for key in keys:
            try:
                timelines[alias].clear(key)
            except Exception as e:  # a store error, a bad alias: the key fails, the run goes on
                self._failed(alias, key, e)
                del by_key[key]

    def _forget_vanished(self, model, rows, changes):
        """Delete again the items of rows written and deleted since they were read.

        A delete that committed after the read, but whose clock was taken before the
        pass's (its transaction was still open), would lose to the adds just written.
        Deleted as a delete of the row deletes it: by its reference, from every key its
        entries went to (a grouped item's id is its group's, and the row is one member).
        """
        pks = [pk for pk, _, _ in rows]
        present = set()
        queryset = model._base_manager.all()
        size = min(self.batch_size, WRITE_KEYS)  # queries of one shape, as the writes
        for start in range(0, len(pks), size):
            present.update(queryset.filter(pk__in=pks[start : start + size]).values_list("pk", flat=True))
        vanished = {id(entry): ref for pk, ref, made in rows if pk not in present for entry in made}
        if not vanished:
            return
        clock = default_clock.now()
        for alias, by_key in changes.items():
            deletes = {}
            for key, entries in by_key.items():
                refs = {vanished[id(entry)] for entry in entries if id(entry) in vanished}
                if refs:
                    deletes[key] = [tombstone(ref, clock) for ref in sorted(refs)]
            if deletes:
                self.write(alias, deletes)

    def write(self, alias, by_key):
        """Append ``{key: entries}`` to ``alias``, in calls of ``WRITE_KEYS`` keys or about ``WRITE_ENTRIES`` entries.

        A call's encoded values are all in memory at once, so a call is bounded, not a
        flush; and calls of one size send statements of one shape, which a database
        driver's statement cache (SQLite's: 128, each as large as its parameters) holds once.
        """
        part, size = {}, 0
        for key, entries in by_key.items():
            part[key] = entries
            size += len(entries)
            if size >= WRITE_ENTRIES or len(part) == WRITE_KEYS:
                self._write(alias, part)
                part, size = {}, 0
        if part:
            self._write(alias, part)

    def _write(self, alias, by_key):
        for key, error in append_entries(alias, by_key, self.workers, self.down):
            self._failed(alias, key, error)

    def _failed(self, alias, key, error):
        self.failed += 1
        if self.on_error is not None:
            self.on_error(alias, key, error)


def passes(model, fields) -> list[tuple[tuple[str, ...], list]]:
    """Return ``[(ordering, fields)]``: the fields grouped by score field and order, best rows first.

    A score that names no concrete field (a system check reports it) is read in pk order.
    """
    grouped = {}
    for field in fields:
        grouped.setdefault((field.score, _shape(field.timeline)[1]), []).append(field)
    found = []
    for (score, sign), group in grouped.items():
        try:
            concrete = model._meta.get_field(score).concrete
        except FieldDoesNotExist:
            concrete = False
        found.append((((f"-{score}" if sign > 0 else score), "pk") if concrete else ("pk",), group))
    return found


def _shape(alias) -> tuple[float, int]:
    """Return ``(capacity, sign)`` of an alias: a rank is the score times the sign, higher ranks shown first.

    An alias that cannot be built keeps everything, and its writes fail and are counted.
    """
    try:
        timeline = timelines[alias]
    except TimelineConfigError:
        return math.inf, 1
    return timeline.capacity, 1 if timeline.order == "desc" else -1
