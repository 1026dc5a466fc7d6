"""Activity Streams 2.0: a timeline page as an ``OrderedCollectionPage`` of Activities.

Each item becomes an Activity with ``id``, ``type``, ``actor``, ``object`` and
``published`` (from the entry's score, read as milliseconds since the epoch, as
datetimes are stored). The ``actor`` is the entry's (``Entry.actor``), else the row
the model names in ``activity_actor`` (a foreign key's name). A model shapes its
items by declaring ``activity_type`` (an AS2 Activity type, "Create" by default) and
``activity_object_type`` ("Note"), or by a hook, ``as_activity(entry) -> dict``, whose keys replace the defaults. Notification
groups become one Activity whose ``actor`` is a ``Collection`` holding the actors
shown and ``totalItems``, their exact count. Ids are absolute URLs where a row has
``get_absolute_url()``, else ``urn:timak:`` URNs of the row references.
"""

from datetime import UTC, datetime
from urllib.parse import quote

from .hydrate import Notification
from .refs import make_ref

CONTEXT = "https://www.w3.org/ns/activitystreams"
MEDIA_TYPE = "application/activity+json"
URN = "urn:timak:"
#: The Activity types of the AS2 vocabulary a group's verb may name ("like" is a ``Like``).
ACTIVITY_TYPES = frozenset(
    "Accept Add Announce Arrive Block Create Delete Dislike Flag Follow Ignore Invite Join Leave Like Listen Move"
    " Offer Question Reject Read Remove TentativeReject TentativeAccept Travel Undo Update View".split()
)


def _iri(ref, row=None, absolute=None) -> str | None:
    """Return the IRI of a row: its absolute URL if it has one, else the URN of its reference."""
    url = getattr(row, "get_absolute_url", None)
    if url is not None and absolute is not None:
        return absolute(url())
    return None if ref is None else URN + quote(str(ref), safe=":.@")


def _actor(entry, item, absolute) -> str | None:
    """Return the IRI of who an item is by: the entry's actor, else the row ``activity_actor`` names."""
    if entry.actor is not None:
        return _iri(entry.actor)
    name = getattr(item, "activity_actor", None)
    row = getattr(item, name, None) if name else None
    return None if row is None else _iri(make_ref(row), row, absolute)


def published(score) -> str:
    """Return the ISO 8601 UTC time of a score stored from a datetime (milliseconds since the epoch)."""
    return datetime.fromtimestamp(score / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def activity(entry, item, absolute=None) -> dict:
    """Return the AS2 Activity of one page item (a row, a ``Notification`` or a plain value)."""
    if isinstance(item, Notification):
        return group_activity(item, absolute)
    answer = {
        "id": URN + "activity:" + quote(str(entry.id), safe=":.@"),
        "type": getattr(item, "activity_type", "Create"),
        "actor": _actor(entry, item, absolute),
        "object": {"id": _iri(entry.id, item, absolute), "type": getattr(item, "activity_object_type", "Note")},
        "published": published(entry.score),
    }
    hook = getattr(item, "as_activity", None)
    if hook is not None:
        answer.update(hook(entry))
    return {name: value for name, value in answer.items() if value is not None}


def group_activity(item: Notification, absolute=None, verb: str | None = None) -> dict:
    """Return a notification group as one Activity: its actors a ``Collection`` with their exact count.

    Its type is the AS2 Activity its verb names (``verb``, else ``data["verb"]``), else ``Activity``.
    """
    data = item.data if isinstance(item.data, dict) else {}
    verb = verb or data.get("verb") or ""
    kind = next((name for name in ACTIVITY_TYPES if name.lower() == verb.lower()), "Activity")
    actors = [_iri(ref, row, absolute) for ref, row in zip(item.actor_refs, item.actors)]
    answer = {
        "id": URN + "activity:" + quote(str(item.id), safe=":.@"),
        "type": kind,
        "actor": {"type": "Collection", "totalItems": item.actor_count, "items": actors},
        "object": _iri(item.target_ref, item.target, absolute),
        "published": published(item.score),
    }
    return {name: value for name, value in answer.items() if value is not None}


def collection_page(activities: list, page_url: str, collection_url: str, next_url: str | None) -> dict:
    """Return the ``OrderedCollectionPage`` of a page of Activities, with ``next`` when there is more."""
    answer = {
        "@context": CONTEXT,
        "id": page_url,
        "type": "OrderedCollectionPage",
        "partOf": collection_url,
        "orderedItems": activities,
    }
    if next_url is not None:
        answer["next"] = next_url
    return answer


def page(pairs, request, next_url: str | None, cursor_param: str = "cursor", make=activity) -> dict:
    """Return the AS2 page of ``[(entry, item)]`` read for ``request`` (ids and links made absolute)."""
    absolute = request.build_absolute_uri
    first = request.GET.copy()
    first.pop(cursor_param, None)
    collection = absolute(request.path + (f"?{first.urlencode()}" if first else ""))
    return collection_page(
        [make(entry, item, absolute) for entry, item in pairs],
        absolute(request.get_full_path()),
        collection,
        absolute(next_url) if next_url else None,
    )
