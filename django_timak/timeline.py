"""``Timeline``: bounded, unique-by-id, score-ordered lists stored one value per key.

A change is either a read-merge-write of one value or, for fan-out, a small value
appended beside it without reading (``append_changes``). Siblings and appended values
found on read are merged (see ``entries``); a store that raises ``WriteConflict``
instead of keeping siblings is read again and retried. The merged value is written
back (compaction) when a read finds ``compact_on_read`` values or more, and when an
append leaves ``compact_on_append`` or more, so a key nobody reads stays bounded.
"""

import logging
import random
import time

from . import codecs, entries as core
from .appending import Appending
from .asynchronous import AsyncTimeline
from .backends.base import BaseBackend
from .buckets import in_bucket
from .clock import clock_ms, default_clock
from .entries import Entry, tombstone
from .exceptions import InvalidTimelineInput, TimelineBackendError, ValueTooLarge, WriteConflict
from .inputs import check_clock, check_id, check_key, make_entry, to_score
from .pages import Page, PageReading, source_view
from .erasure_record import Erasing, forget_erased
from .exclusions import filtered

__all__ = ["Page", "Timeline", "check_id", "check_key", "source_view", "to_score"]

logger = logging.getLogger("django_timak")


class Timeline(PageReading, Appending, Erasing, AsyncTimeline):
    """Timelines stored in one backend, all with the same capacity and order.

    timak's constructor works unchanged: ``connection=`` for ``backend=``, ``bucket=``,
    and its positional form ``Timeline(conn, "timelines", "desc", 3)`` (a str second
    argument is timak's bucket, and the fourth its max_items). ``bucket`` names a Riak
    bucket, and a key namespace on the other stores (``django_timak.buckets``). Built
    the timak way (``connection=`` or a bucket), ``raw=True`` answers timak's dicts
    instead of entries, unless ``raw_dicts`` says otherwise.
    ``margin`` keeps that many live entries past ``max_items`` so that a delete can
    be filled from below, and merges stay exact while no more than ``margin`` deletes
    meet; with the default 0, an item that falls off the end is gone, as in timak.
    ``max_tombstones`` bounds how many recent deletes are remembered (see docs/design.rst).
    ``compact_on_read`` and ``compact_on_append`` are how many values (siblings and
    appended ones) a key holds before a read, or an append, writes them back merged:
    reading a page after one new post then rewrites nothing.
    """

    def __init__(
        self,
        backend: BaseBackend | None = None,
        *args,
        max_items: int = 1000,
        order: str = "desc",
        compress=None,
        connection: BaseBackend | None = None,
        bucket: str | None = None,
        raw_dicts: bool | None = None,
        margin: int = 0,
        max_tombstones: int | None = None,
        max_value_bytes: int | None = None,
        max_attempts: int = 100,
        clock=None,
        compact_on_read: int = 8,
        compact_on_append: int = 16,
    ):
        if args:
            given = {"max_items": max_items, "order": order, "compress": compress, "bucket": bucket}
            positional = _positional(args)
            if twice := [name for name in positional if given[name] not in (None, 1000, "desc")]:
                raise TypeError(f"Timeline() got {twice[0]} both by position and by name")
            max_items = positional.get("max_items", max_items)
            order = positional.get("order", order)
            compress = positional.get("compress", compress)
            bucket = positional.get("bucket", bucket)
        store = backend if backend is not None else connection
        if store is None:
            raise TypeError("Timeline() needs a backend (or connection) to store timelines in")
        for name, value, low in (
            ("max_items", max_items, 1),
            ("margin", margin, 0),
            ("max_tombstones", 0 if max_tombstones is None else max_tombstones, 0),
            ("max_value_bytes", 1 if max_value_bytes is None else max_value_bytes, 1),
            ("max_attempts", max_attempts, 1),
            ("compact_on_read", compact_on_read, 2),
            ("compact_on_append", compact_on_append, 2),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InvalidTimelineInput(f"{name} must be an int of at least {low}, not {value!r}")
        if order not in core.ORDERS:
            raise InvalidTimelineInput(f"order must be 'desc' or 'asc', not {order!r}")
        try:
            codecs.check_compress(compress)
        except ValueError as e:
            raise InvalidTimelineInput(str(e)) from e
        self.connection = store
        self.bucket = bucket
        backend = store if bucket is None else in_bucket(store, bucket)
        self.backend = backend
        self.raw_dicts = (connection is not None or bucket is not None) if raw_dicts is None else raw_dicts
        self.max_items = max_items
        self.order = order
        self.compress = compress
        self.margin = margin
        self.capacity = max_items + margin
        self.max_tombstones = max_tombstones if max_tombstones is not None else max(16, self.capacity // 10)
        self.max_value_bytes = max_value_bytes if max_value_bytes is not None else backend.max_value_bytes
        self.max_attempts = max_attempts
        self.clock = clock or default_clock
        self.compact_on_read = compact_on_read
        self.compact_on_append = compact_on_append

    def _pause(self, seconds):
        """Back off before a conflict's retry (the async API awaits instead)."""
        time.sleep(seconds)

    def __repr__(self):
        return f"<Timeline {type(self.backend).__name__} max_items={self.max_items} order={self.order!r}>"

    def get_connection(self) -> BaseBackend:
        """Return the store the Timeline was built with (timak's client)."""
        return self.connection

    def get_bucket(self) -> BaseBackend:
        """Return the store of the Timeline's bucket: reads and writes of its keys."""
        return self.backend

    # Reading

    def get(self, key: str, raw: bool = False) -> list:
        """Return the visible timeline: data (or ids), or with ``raw=True`` entries (or timak's dicts)."""
        stored, erased = self._read_erased(key)
        return self._raw(list(filtered(core.visible(stored, self.max_items), erased)), raw)

    def _raw(self, shown, raw):
        if not raw:
            return [e.value for e in shown]
        return [timak_dict(e) for e in shown] if self.raw_dicts else shown

    def _read(self, key):
        check_key(key)
        versioned, found, _ = self._read_merged(key)
        if len(versioned.values) >= self.compact_on_read:
            self._repair(key, found, versioned.token)
        return found

    def _merged(self, versioned):
        values = [codecs.decode(v) for v in versioned.values]
        if len(values) == 1 and len(core.live(values[0])) <= self.capacity:
            return values[0]
        return core.merge(*values, capacity=self.capacity, tombstones=self.max_tombstones, order=self.order)

    def _repair(self, key, found, token):
        """Write merged values back; a failure only delays the compaction to the next write.

        A conflict is the normal race with a concurrent writer, whose write already
        holds what this read merged: only a real failure is a warning.
        """
        try:
            self.backend.write(key, self._encode(found), token)
        except WriteConflict as e:
            logger.debug("timak: read repair of %r skipped, a concurrent write won: %s", key, e)
        except (TimelineBackendError, ValueTooLarge) as e:
            logger.warning("timak: read repair of %r failed: %s", key, e)

    def _show(self, found, raw):
        return self._raw(core.visible(found, self.max_items), raw)

    # Writing

    def add(self, key: str, uniq_id, score, obj_data=None, raw: bool = False, *, modified: int | None = None) -> list:
        """Add (or replace) one item; return the visible timeline."""
        return self._show(self.add_and_delete(key, adds=[(uniq_id, score, obj_data)], modified=modified), raw)

    def delete(self, key: str, uniq_id, score=None, raw: bool = False, *, modified: int | None = None) -> list:
        """Delete one item (``score`` is accepted for timak compatibility); return the visible timeline."""
        return self._show(self.add_and_delete(key, deletes=[uniq_id], modified=modified), raw)

    def add_many(self, key: str, items, *, modified: int | None = None) -> list[Entry]:
        """Add ``(id, score, data)`` triples in one write; return the stored entries."""
        return self.add_and_delete(key, adds=items, modified=modified)

    def delete_many(self, key: str, ids, *, modified: int | None = None) -> list[Entry]:
        """Delete ids in one write; return the stored entries."""
        return self.add_and_delete(key, deletes=ids, modified=modified)

    def clear(self, key: str) -> None:
        """Remove the whole timeline stored under ``key``."""
        check_key(key)
        self.backend.delete(key, self.backend.read(key).token)

    def copy_items(self, source_key: str, target_key: str, limit: int | None = None) -> list[Entry]:
        """Copy the newest ``limit`` visible items of one timeline into another (a follow's backfill).

        Each item keeps the clock it has in the source, so a delete or an edit
        stamped after it still wins in the target, even one that commits while the
        copy is under way. An item the target had detached (``remove_items``) comes
        back: its detach tombstone, which holds the clock of the very version it
        detached, is dropped for the copy, while any other tombstone stays.
        Once written, the source is read again, and what changed there meanwhile
        reaches the target too: a delete whose fan-out did not include the target
        (the follow committed after the delete chose its keys) still reaches it.
        """
        copied = {e.id: e for e in core.visible(self._read(source_key), self.max_items)[:limit]}
        stored = self._write(target_key, list(copied.values()), restoring=True)
        changed = [e for e in self._read(source_key) if e.id in copied and e.clock > copied[e.id].clock]
        return self._write(target_key, changed) if changed else stored

    def catch_up(self, source_key: str, target_keys, limit: int | None = None) -> None:
        """Give each target what readers pulled from ``source_key`` (an author back under the pull threshold).

        Each target receives the source's newest ``limit`` items (``copy_items``) and
        its deletes, so that an item pushed to the target before the author was pulled,
        and deleted while only the source recorded it, stays deleted once the target
        stops merging the source.
        """
        deletes = [e for e in self._read(source_key) if e.deleted and not core.is_detached(e)]
        for target_key in target_keys:
            self.copy_items(source_key, target_key, limit)
        if deletes:
            self.append_changes({target_key: deletes for target_key in target_keys})

    def remove_items(self, source_key: str, target_key: str) -> None:
        """Detach from ``target_key`` every item that ``source_key`` holds (an unfollow).

        The detach tombstones are appended to the target without reading it. Each
        holds the clock of the version it detaches (a tombstone wins a tie), so it
        hides that version and nothing later: a delete of the item, stamped later,
        still wins wherever it lands, even when its fan-out was under way across the
        unfollow. The items are not deleted: ``copy_items`` brings them back.
        """
        check_key(target_key)
        detached = [tombstone(e.id, e.clock, detached=True) for e in core.live(self._read(source_key))]
        if detached:
            self.append_changes({target_key: detached})

    def add_and_delete(self, key: str, adds=(), deletes=(), *, modified: int | None = None) -> list[Entry]:
        """Apply adds ``(id, score, data)`` and deletes (ids) in one write; return the stored entries.

        Everything is validated before the first read, so bad input writes nothing.
        ``modified`` fixes the clock of every change; by default the hybrid clock
        stamps them, after everything the key already holds.
        """
        if modified is not None:
            check_clock(modified)
        stamp = modified or 0
        changes = [make_entry(i, s, d, stamp) for i, s, d in adds]
        for uniq_id in deletes:
            check_id(uniq_id)
            changes.append(tombstone(uniq_id, stamp))
        return self._write(key, changes)

    def replay(self, key: str, changes) -> list[Entry]:
        """Merge ``Entry`` changes that carry their own clocks in one write.

        For replaying recorded operations (the outbox): each change keeps the clock it
        was stamped with when it was recorded, so however late or often it is
        applied, it never overtakes a later change of the same id.
        """
        checked = []
        for change in changes:
            check_clock(change.clock)
            checked.append(make_entry(change.id, change.score, change.data, change.clock, change.deleted, change.actor))
        return self._write(key, checked)

    #: The old names of ``add_and_delete`` and ``replay``.
    update = add_and_delete
    apply = replay

    def _write(self, key, changes, *, restoring=False, compact_at=None):
        """Read, merge ``changes`` in and write back, again on a conflict; return the stored value.

        A change that changes nothing writes nothing, unless the key holds
        ``compact_at`` values or more (``compact_on_read`` by default): then the
        merged value is written back, and a failure other than a conflict is logged.
        """
        check_key(key)
        compact_at = compact_at or self.compact_on_read
        for attempt in range(self.max_attempts):
            versioned, found, erased_now = self._read_merged(key)
            changed = forget_erased(self._changed_value(found, changes, restoring), erased_now)
            if erased_now and changed == found:  # only changes of erased actors' items
                changed = None
            if changed is None and len(versioned.values) < compact_at:
                return found
            stored = found if changed is None else changed
            try:
                self.backend.write(key, self._encode(stored), versioned.token)
            except WriteConflict:
                self._pause(random.uniform(0, min(0.05, 0.0005 * 2**attempt)))
                continue
            except (TimelineBackendError, ValueTooLarge) as e:
                if changed is not None:
                    raise
                logger.warning("timak: compaction of %r failed: %s", key, e)
            return stored
        raise WriteConflict(f"gave up on {key!r} after {self.max_attempts} conflicting writes", key=key)

    def _changed_value(self, found, changes, restoring=False):
        """Return the value after ``changes``, or None if they change nothing.

        Changes stamped 0 take a clock after everything ``found`` holds. When
        ``restoring``, an add drops the tombstone of its own detachment. A change the
        value already shows is skipped only if the value's version is as recent: the
        newer clock is kept, or a concurrent older change could win over it later.
        """
        current = {e.id: e for e in found}
        base = found
        if restoring:
            lifted = {c.id for c in changes if not c.deleted and _detaches(current.get(c.id), c)}
            base = [e for e in found if e.id not in lifted]
        stamp = None
        news = []
        for change in changes:
            old = current.get(change.id)
            recent = old is not None and (not change.clock or old.clock >= change.clock)
            if change.deleted:
                if old is not None and old.deleted:
                    # A detachment never replaces a delete; a tombstone as recent will do.
                    if core.is_detached(change) and not core.is_detached(old):
                        continue
                    if recent and core.is_detached(change) == core.is_detached(old):
                        continue
            elif recent and not old.deleted and (old.score, old.data, old.actor) == (change.score, change.data, change.actor):
                continue
            if not change.clock:
                stamp = stamp or self.clock.now(core.latest_clock(found))
                change = change._replace(clock=stamp)
            news.append(change)
        if not news:
            return None
        merged = core.merge(base, news, capacity=self.capacity, tombstones=self.max_tombstones, order=self.order)
        # Adds that fall straight off the end (a rebuild re-adding old items) change nothing.
        return None if merged == found else merged

    def _encode(self, found):
        value = codecs.encode(found, self.compress)
        if self.max_value_bytes is not None and len(value) > self.max_value_bytes:
            raise ValueTooLarge(
                f"the timeline would take {len(value)} bytes, over MAX_VALUE_BYTES="
                f"{self.max_value_bytes}: lower MAX_ITEMS, store less obj_data, or set COMPRESS"
            )
        return value


def _positional(args) -> dict:
    """Name the positional arguments after the store: ours, or timak's when the first is a str bucket."""
    names = ("bucket", "order", "max_items") if isinstance(args[0], str) else ("max_items", "order", "compress")
    if len(args) > len(names):
        raise TypeError(f"Timeline() takes at most {len(names) + 1} positional arguments")
    return dict(zip(names, args))


def timak_dict(entry: Entry) -> dict:
    """Return an entry as timak stored it: id, timestamp and modified (ms), and data if any."""
    found = {"id": entry.id, "timestamp": entry.score, "modified": clock_ms(entry.clock)}
    if entry.data is not None:
        found["data"] = entry.data
    if entry.deleted:
        found["deleted"] = True
    return found


def _detaches(old: Entry | None, change: Entry) -> bool:
    """Return True if ``old`` is the detach tombstone of ``change``'s version or an earlier one."""
    return old is not None and core.is_detached(old) and old.clock <= change.clock
