"""What django-timak stored for a user: the keys their pages read, and what each holds.

Read below the Timeline API, from the store itself, so a developer sees the
mechanism: one value per key, its size in bytes, its siblings (Riak), the items a
page can show and the tombstones that keep deleted items from coming back, and
which keys the home page read: its own, and the pulled accounts' it merged in.
"""

from dataclasses import dataclass

from django_timak import codecs, timelines


@dataclass(frozen=True)
class StoredKey:
    key: str
    role: str
    items: int
    tombstones: int
    size: int
    siblings: int
    #: True if the home page read this key.
    read: bool = False


def stored_keys(user, page_keys=()) -> list[StoredKey]:
    """Return what the store holds under ``user``'s home and profile keys and the other keys the page read.

    ``page_keys`` are the keys the home page read: the home key, then the pulled ones.
    """
    timeline = timelines["default"]
    roles = {user.home_key(): "home", **dict.fromkeys(page_keys[1:], "pulled")}
    roles.setdefault(user.profile_key(), "profile")
    found = []
    for key, role in roles.items():
        values = timeline.backend.read(key).values
        deleted = {entry.id for value in values for entry in codecs.decode(value) if entry.deleted}
        items = len(timeline.get(key, raw=True))
        found.append(StoredKey(key, role, items, len(deleted), sum(map(len, values)), len(values), key in page_keys))
    return found


def backend_name() -> str:
    """Return the class name of the store the timelines live in."""
    return type(timelines["default"].backend).__name__
