"""Read-time exclusion of actors: the items, and the group members, by actors a reader leaves out.

Nothing is written: a reader's block or mute list (or an erasure, see ``erasure``)
only filters what a page shows, so it takes effect on the very next page. An entry
whose ``actor`` is excluded is left out; a group loses its excluded members (its
shown actors and its count leave them out) and is left out when none is left. A
group keeps its score, so its place in the timeline, and every cursor, stay put.
"""

from . import groups
from .exceptions import InvalidTimelineInput

_COLLECTIONS = (set, frozenset, list, tuple)
_ACTOR_TYPES = {str, int}


def check_actors(actors, name: str = "exclude_actors") -> frozenset:
    """Return ``actors`` as a frozenset; raise InvalidTimelineInput unless it is a collection of refs or ints."""
    if not isinstance(actors, _COLLECTIONS):
        raise InvalidTimelineInput(
            f"{name} must be a set, frozenset, list or tuple of actors (refs such as 'auth.user:42', or ints), "
            f"not {type(actors).__name__}"
        )
    if not {type(actor) for actor in actors} <= _ACTOR_TYPES:  # exact types: a bool is no actor
        actor = next(a for a in actors if type(a) not in _ACTOR_TYPES)
        raise InvalidTimelineInput(
            f"{name} holds {actor!r} ({type(actor).__name__}): an actor is a ref such as 'auth.user:42' or an int"
        )
    return actors if type(actors) is frozenset else frozenset(actors)


def _is_excluded(actor, excluded) -> bool:
    return actor.__class__ in (str, int) and actor in excluded


def keep(entry, excluded: frozenset):
    """Return ``entry`` as a reader excluding ``excluded`` sees it, or None if it is left out."""
    if entry.actor is not None and _is_excluded(entry.actor, excluded):
        return None
    if not groups.is_group(entry):
        return entry
    body = entry.data[groups.GROUP]
    members = body.get("m", ())
    kept = [raw for raw in members if not _is_excluded(raw[1], excluded)]
    if len(kept) == len(members):
        return entry
    if not kept:
        return None
    return entry._replace(data={**entry.data, groups.GROUP: {**body, "m": kept}})


def filtered(entries, excluded: frozenset):
    """Yield what ``keep`` keeps of ``entries``, in their order (all of them when nothing is excluded)."""
    if not excluded:
        yield from entries
        return
    for entry in entries:
        shown = keep(entry, excluded)
        if shown is not None:
            yield shown
