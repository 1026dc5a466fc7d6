"""Reading pages: one key's page, and the page merged at read time over several keys.

``PageReading`` is the reading half of ``Timeline``; it relies on ``Timeline._read``,
``_merged`` and ``_repair`` for one key's merged value.
"""

import heapq
from dataclasses import dataclass

from . import codecs, entries as core
from .entries import Entry
from .exceptions import InvalidTimelineInput
from .erasure_record import ERASURE_KEY, erased, forget_erased, without_actors
from .exclusions import check_actors, filtered, keep
from .inputs import check_key
from .key_views import WholeView, open_view, source_view
from .pagination import AFTER, decode_bound, page_after, page_at


@dataclass(frozen=True)
class Page:
    """One page of a timeline: its items, and the cursors of the next and previous pages (or None)."""

    items: list
    next_cursor: str | None
    entries: list[Entry]
    #: The keys the page was read from: the timeline's own, then its sources.
    keys: tuple[str, ...] = ()
    #: The page before this one, in the same order (None on the first page).
    previous_cursor: str | None = None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None


class PageReading:
    """The pages of a ``Timeline``: after a cursor, over one key or merged over several."""

    def page(self, key: str, limit: int = 20, cursor: str | None = None, *, sources=(), exclude_actors=()) -> Page:
        """Return ``limit`` items at ``cursor`` (from the top when None): a next page's, or a previous page's.

        ``sources`` are more keys merged into the page at read time (the timelines of
        pulled authors the reader follows): see ``merged_entries``. A source may be a
        ``(key, actor)`` pair naming whose timeline it is. ``exclude_actors`` (a set,
        frozenset, list or tuple of actors) leaves out their items, their group
        memberships, and the sources that are theirs, which are not read at all
        (see ``exclusions``); the page still holds ``limit`` items when the timeline does.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidTimelineInput(f"limit must be a positive int, not {limit!r}")
        excluded = check_actors(exclude_actors)
        bound = decode_bound(cursor) if cursor is not None else None
        keys = tuple(dict.fromkeys((key, *_source_keys(sources, excluded))))
        if len(keys) == 1:
            # Only a next page's cursor lets the codec skip to it; the others are read from the top.
            shown, erased = self._visible_after(key, bound[0] if bound and bound[1] == AFTER else None)
            if erased:
                excluded |= erased
            entries = filtered(shown, excluded)
        else:
            entries = filtered(self.merged_entries(keys), excluded)
        found, next_cursor, previous_cursor = page_at(entries, bound, limit, self.order)
        return Page([e.value for e in found], next_cursor, found, keys, previous_cursor)

    def _visible_after(self, key, after):
        """Return ``(visible entries after position after, erased actors)`` of one key, from one ``read_many``.

        A key holding one value is paged from ``codecs.iter_live``, which decodes only
        the blocks the page reads; siblings are merged (and compacted when due) first.
        """
        check_key(key)
        found = self.backend.read_many([key, ERASURE_KEY])
        versioned, erased_now = found[key], erased(tuple(bytes(v) for v in found[ERASURE_KEY].values))
        if len(versioned.values) == 1:
            return codecs.iter_live(bytes(versioned.values[0]), after, self.order, self.max_items), erased_now
        stored = self._merged(versioned)
        if len(versioned.values) >= self.compact_on_read:
            self._repair(key, without_actors(stored, erased_now) if erased_now else stored, versioned.token)
        shown = core.visible(stored, self.max_items)
        return page_after(shown, after, len(shown), self.order)[0], erased_now

    def merged_entries(self, keys):
        """Yield the visible items of several keys read at once, as one timeline, top first.

        One ``read_many`` of every key; per id the version with the greatest clock
        wins across keys, so a delete in one key hides the item in all of them. A
        detachment (an unfollow's ``remove_items``) hides an item only in its own key:
        a source is read because the reader follows it now. Ordered by (score, id) and
        cut at ``max_items``, so a cursor pages across the keys as over one. Each key's
        items are already in order and walked lazily (``key_views``): a page decodes
        the blocks it reaches of each key, its deletes and ids come without the blocks.
        The erasure record is read in the same ``read_many``: erased actors never show.
        """
        for key in keys:
            check_key(key)
        found = self.backend.read_many([*keys, ERASURE_KEY])
        erased_now = erased(tuple(bytes(v) for v in found.pop(ERASURE_KEY).values))
        views = [self._key_view(key, versioned, key == keys[0], erased_now) for key, versioned in found.items()]
        # Repetition and deletes are asked per entry the page reaches, not built over every id of every key.
        deleting = [view for view in views if view.deleted]
        merged = heapq.merge(*(view.walk() for view in views), key=core.position, reverse=self.order == "desc")
        count = 0
        for entry in _winning(merged, views, self.order == "desc"):
            if count == self.max_items:
                return
            if deleting and _hidden(entry, deleting):
                continue
            count += 1
            if erased_now:
                entry = keep(entry, erased_now)
                if entry is None:
                    continue
            yield entry

    def _key_view(self, key, versioned, home: bool, erased_now: frozenset):
        """Return what the merge reads of one key: in part when it holds one value, whole otherwise.

        Siblings and appended values are merged whole first (and compacted when due):
        which of their items a key shows, and which of its deletes it keeps, depend on
        the trim to capacity and on groups' settlement over all of them at once. So does
        a home key holding more live items than ``capacity`` (``_merged`` trims it).
        Sources holding one value are cached (``source_view``): every follower reads them.
        A compaction's write-back forgets the erased actors' items, as every write does.
        """
        if len(versioned.values) == 1:
            value = bytes(versioned.values[0])
            if not home:
                return source_view(value, self.max_items)
            view = open_view(value, self.max_items)
            if view.live_count <= self.capacity:
                return view
        stored = self._merged(versioned)
        if len(versioned.values) >= self.compact_on_read:
            self._repair(key, forget_erased(stored, erased_now), versioned.token)
        return WholeView(stored, self.max_items)


def _winning(merged, views, descending: bool):
    """Yield each id's winning version across the keys once, in the walk's order.

    A version that wins is yielded where the walk reaches it. The versions of a group
    held by several keys join into a new entry, placed where its score falls: in a
    newest-first walk at or after its first version (a joined group's score is its top
    live member's, never above every version's), so it waits in ``joined`` until the
    walk passes it; in an oldest-first walk it may fall before every version, so the
    groups held by several keys are joined before the walk starts.
    """
    winners = {}
    joined = [] if descending else _joined_before(views, winners)
    for entry in merged:
        while joined and _ahead(joined[0], entry, descending):
            yield joined.pop(0)
        id_ = entry.id
        winner = winners.get(id_)
        if winner is None:
            holding = [view for view in views if id_ in view.ids]
            if len(holding) == 1:
                yield entry
                continue
            winner, new = _resolved(holding, id_)
            winners[id_] = winner
            if new:
                joined.append(winner)
                joined.sort(key=core.position, reverse=descending)
        if winner is entry:
            yield entry
    yield from joined


def _joined_before(views, winners: dict) -> list:
    """Resolve every id held by several keys into ``winners``; return the live joined groups, oldest first."""
    seen, repeated = set(), set()
    for view in views:
        repeated |= seen & view.ids
        seen |= view.ids
    joined = []
    for id_ in repeated:
        winner, new = _resolved([view for view in views if id_ in view.ids], id_)
        winners[id_] = winner
        if new:
            joined.append(winner)
    return sorted(joined, key=core.position)


def _resolved(holding, id_) -> tuple[Entry, bool]:
    """Return the version of ``id_`` that wins across the keys ``holding`` it, and whether it is a live joined group."""
    versions = [view.version(id_) for view in holding]
    winner = core.resolve(*([version] for version in versions))[id_]
    return winner, not winner.deleted and all(winner is not version for version in versions)


def _ahead(entry: Entry, other: Entry, descending: bool) -> bool:
    """Return True if the walk reaches ``entry`` before ``other``."""
    return core.position(entry) > core.position(other) if descending else core.position(entry) < core.position(other)


def _hidden(entry: Entry, deleting) -> bool:
    """Return True if the winning delete of ``entry``'s id across the keys ``deleting`` supersedes it."""
    tomb = None
    for view in deleting:
        found = view.deleted.get(entry.id)
        if found is not None and (tomb is None or core.wins(found, tomb)):
            tomb = found
    return tomb is not None and core.wins(tomb, entry)


def _source_keys(sources, excluded: frozenset):
    """Yield the keys of ``sources`` (keys, or ``(key, actor)`` pairs) whose actor is not excluded."""
    if isinstance(sources, (str, bytes)):
        raise InvalidTimelineInput(f"sources must be a collection of keys, not the single key {sources!r}")
    for source in sources:
        if isinstance(source, tuple):
            if len(source) != 2 or not isinstance(source[0], str):
                raise InvalidTimelineInput(f"a source is a key or a (key, actor) pair, not {source!r}")
            if source[1].__class__ in (str, int) and source[1] in excluded:
                continue
            source = source[0]
        yield source
