"""The demo's ``TIMAK_EXCLUDED_ACTORS``: whom a reader's pages leave out, read at every page.

A block hides both ways, on every kind of page; a mute hides the muted from the
muter's home only. Nothing is rewritten, so a block or an unblock shows on the next page.
"""

from django.db.models import Q
from django.utils.functional import SimpleLazyObject

from django_timak.refs import make_ref

from .models import Block, Mute, User


def user_ref(pk) -> str:
    return make_ref(User(pk=pk))


def excluded_actors(request, kind) -> set[str]:
    """Return the refs of the users ``request.user`` must not see on a ``kind`` page."""
    if not request.user.is_authenticated:
        return set()
    me = request.user.pk
    pairs = Block.objects.filter(Q(blocker=me) | Q(blocked=me)).values_list("blocker", "blocked")
    found = {user_ref(pk) for pair in pairs for pk in pair if pk != me}
    if kind == "home":
        found.update(user_ref(pk) for pk in Mute.objects.filter(muter=me).values_list("muted", flat=True))
    return found


def notification_exclusions(request) -> dict:
    """Give templates ``notification_exclusions`` (read only when used), for the top bar's ``{% unread_count %}``."""
    return {"notification_exclusions": SimpleLazyObject(lambda: frozenset(excluded_actors(request, "notifications")))}
