"""Aggregated entries: many activities (rows) shown as one timeline entry, merged as a CRDT.

A group is an ``Entry`` whose id is the group id (``"like:42"``) and whose data is
``{GROUP: {...}}``: its members, one per row that brought an actor, each with its own
clock, and an ``info`` register (what hydration needs: the target, the field's data).

* Two versions of one group join member by member: per member id the greater clock
  wins, a removed member winning a tie, exactly as entries do; ``info`` is the one
  with the greater clock. Concurrent adds from several writers are all kept.
* A row's removal is the tombstone of the row's reference (the same delete every
  timeline receives); a tombstone at least as new as a member removes it, and the
  member stays in the group as removed, so an older add arriving later stays removed.
  A member id lives in one group: when a row moves to another group, the newer
  version wins. A tombstone of the group id itself removes every member it is newer than.
* The entry's score is its newest live member's, its clock the greatest it holds; a
  group with no live member is a tombstone (it keeps its removed members).

Every member id is kept, so the count of distinct actors is exact and joins stay a
CRDT (a bounded set plus counters could not tell a repeated add from a new one, nor
undo an add it had already dropped). Bounds: ``MAX_MEMBERS`` live members per group
(the oldest past it fall off, like items off a timeline, and the count is then a
lower bound) and ``MAX_REMOVED`` removed ones; what is shown and hydrated is bounded
by the reader. This module imports nothing of the package: ``entries`` calls it.
"""

import json
from itertools import chain
from typing import Any, NamedTuple

#: The data key that marks an entry as a group.
GROUP = "timak:group"
#: Live members kept per group, newest first; past it the count is a lower bound.
MAX_MEMBERS = 1000
#: Removed members kept per group, most recent first (a removal stays effective while kept).
MAX_REMOVED = 100

_canonical = json.JSONEncoder(sort_keys=True, default=repr).encode


class Member(NamedTuple):
    """One row in a group: its reference, its actor's, and when it happened."""

    id: str | int
    actor: Any
    score: int | float
    clock: int
    removed: bool = False


def _order(key):
    """Return a sort key for an id that orders ints before strings, without encoding anything."""
    return (isinstance(key, str), key)


def change(member_id, actor, info=None) -> dict:
    """Return the data of an entry that adds one member; it takes the entry's score and clock."""
    return {GROUP: {"m": [[member_id, actor]], "i": info}}


def is_group(entry) -> bool:
    """Return True if ``entry`` holds a group."""
    data = entry.data
    return data.__class__ is dict and GROUP in data


def _state(entry):
    """Return ``(members by id, info clock, info)`` of a group entry, filling a change's clocks."""
    body = entry.data[GROUP]
    members = {}
    for raw in body.get("m", ()):
        member = Member(raw[0], raw[1], raw[2], raw[3]) if len(raw) > 2 else Member(raw[0], raw[1], entry.score, entry.clock)
        members[member.id] = member
    for raw in body.get("r", ()):
        members[raw[0]] = removal(raw[0], raw[1])
    return members, body.get("ic", entry.clock), body.get("i")


def removal(member_id, clock: int) -> Member:
    """Return a removed member: only its id and clock matter, so versions removed at one clock are equal."""
    return Member(member_id, None, 0, clock, True)


def _newer(a: Member, b: Member) -> bool:
    """Return True if member version ``a`` supersedes ``b`` (the entries' rule)."""
    if a.clock != b.clock:
        return a.clock > b.clock
    if a.removed != b.removed:
        return a.removed
    return (a.score, _canonical(a.actor)) > (b.score, _canonical(b.actor))


def build(group_id, members, info_clock: int, info, cleared: int = 0) -> tuple:
    """Return the ``(id, score, clock, data, deleted)`` fields of a group's entry, trimmed.

    Members with a clock at or below ``cleared`` (a tombstone of the group id) are removed at it.
    """
    live, removed = [], []
    for member in members:
        if member.clock <= cleared:
            member = removal(member.id, cleared)
        (removed if member.removed else live).append(member)
    live.sort(key=lambda m: (m.score, m.clock, _order(m.id)), reverse=True)
    removed.sort(key=lambda m: (m.clock, _order(m.id)), reverse=True)
    live, removed = live[:MAX_MEMBERS], removed[:MAX_REMOVED]
    body = {"m": [list(m[:4]) for m in live], "ic": info_clock, "i": info}
    if removed:
        body["r"] = [[m.id, m.clock] for m in removed]
    if cleared:
        body["x"] = cleared
    clock = max([info_clock, cleared, *(m.clock for m in live), *(m.clock for m in removed)])
    return group_id, live[0].score if live else 0, clock, {GROUP: body}, not live


def join(*versions) -> tuple:
    """Return the entry fields of versions of one id where at least one is a group.

    A plain tombstone removes the members it is newer than; a plain live entry under
    a group's id loses to the group.
    """
    cleared = 0
    states = []
    for entry in versions:
        if is_group(entry):
            states.append(_state(entry))
            cleared = max(cleared, entry.data[GROUP].get("x", 0))
        elif entry.deleted:
            cleared = max(cleared, entry.clock)
    members = {}
    info_clock, info = 0, None
    for found, clock, data in states:
        for member in found.values():
            current = members.get(member.id)
            if current is None or _newer(member, current):
                members[member.id] = member
        if (clock, _canonical(data)) > (info_clock, _canonical(info)):
            info_clock, info = clock, data
    return build(versions[0].id, members.values(), info_clock, info, cleared)


#: How versions of one member at one clock rank across groups (see ``settle``).
REMOVED, LIVE, TOMBSTONE = 0, 1, 2


def settle(by_id: dict, make) -> dict:
    """Return ``{id: entry}`` with the cross-entry rules applied to its groups.

    Per member id, its newest version anywhere wins: in another group (the row
    moved), removed in another group, or a tombstone of the id. At one clock a
    tombstone beats a live version, which beats a removal recorded in another group
    (the record a move leaves behind). Every other version becomes removed at that clock. Groups still in a
    change's form are rewritten in full. Only the groups that change are decoded into
    members, so merging a delta into a feed of many groups rebuilds only the groups
    it touches. ``make`` builds an entry from its fields.
    """
    grouped = [(gid, entry) for gid, entry in by_id.items() if is_group(entry)]
    if not grouped:
        return by_id
    ranks = {gid: _order(gid) for gid, _ in grouped}
    newest = {}
    suspects = set()

    def offer(member_id, version):
        best = newest.get(member_id)
        if best is not None:
            suspects.add(member_id)  # in two places: the older version loses
        if best is None or version > best:
            newest[member_id] = version

    for key, entry in by_id.items():
        if entry.deleted and not is_group(entry):
            offer(key, (entry.clock, TOMBSTONE, (False, -1)))
    for gid, entry in grouped:
        body = entry.data[GROUP]
        cleared = body.get("x", 0)
        for raw in body.get("m", ()):
            clock = raw[3] if len(raw) > 2 else entry.clock
            offer(raw[0], (cleared, REMOVED, ranks[gid]) if clock <= cleared else (clock, LIVE, ranks[gid]))
        for raw in body.get("r", ()):
            offer(raw[0], (raw[1], REMOVED, ranks[gid]))
    settled = dict(by_id)
    for gid, entry in grouped:
        body = entry.data[GROUP]
        if "ic" in body and not any(raw[0] in suspects for raw in chain(body["m"], body.get("r", ()))):
            continue
        members, info_clock, info = _state(entry)
        for member in list(members.values()):
            best = newest[member.id]
            own = (member.clock, REMOVED if member.removed else LIVE, ranks[gid])
            if best > own and (not member.removed or best[0] > member.clock):
                members[member.id] = removal(member.id, best[0])
        settled[gid] = make(*build(gid, members.values(), info_clock, info, body.get("x", 0)))
    return settled


def live_members(entry) -> list[Member]:
    """Return the live members of a group entry, newest first."""
    members, _, _ = _state(entry)
    found = [m for m in members.values() if not m.removed]
    found.sort(key=lambda m: (m.score, m.clock, _order(m.id)), reverse=True)
    return found


def actors(entry) -> list:
    """Return the distinct actors of a group entry, newest first."""
    return list(dict.fromkeys(m.actor for m in live_members(entry)))


def info(entry):
    """Return the info register of a group entry (what its field stored for hydration)."""
    return entry.data[GROUP].get("i")
