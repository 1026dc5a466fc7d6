"""Where a reader's excluded actors come from: ``TIMAK_EXCLUDED_ACTORS``, a callable the site names.

``excluded_actors(request, kind)`` calls it with the request and the kind of page
(``"home"``, ``"profile"`` or ``"notifications"``) and returns the actors to leave
out as a frozenset of refs: model instances it returns are turned into refs. A site
without the setting excludes nobody. The views and tags read through it, so a block
takes effect on the very next page, with no timeline rewritten.
"""

from django.conf import settings
from django.db.models import Model
from django.utils.module_loading import import_string

from .exceptions import InvalidTimelineInput, TimelineConfigError
from .exclusions import check_actors
from .refs import make_ref

SETTING = "TIMAK_EXCLUDED_ACTORS"
KINDS = ("home", "profile", "notifications")


def excluded_callable():
    """Return the callable ``TIMAK_EXCLUDED_ACTORS`` names, or None; raise TimelineConfigError if it names none."""
    path = getattr(settings, SETTING, None)
    if path is None:
        return None
    if callable(path):
        return path
    if not isinstance(path, str):
        raise TimelineConfigError(f"{SETTING} must be a dotted path to a callable, not {type(path).__name__}")
    try:
        found = import_string(path)
    except ImportError as e:
        raise TimelineConfigError(f"{SETTING} = {path!r} cannot be imported: {e}") from e
    if not callable(found):
        raise TimelineConfigError(f"{SETTING} = {path!r} is not callable")
    return found


def as_refs(actors, name: str = "exclude_actors") -> frozenset:
    """Return ``actors`` (refs, ints or saved model instances) as a frozenset; raise InvalidTimelineInput otherwise."""
    if actors is None:
        return frozenset()
    if isinstance(actors, (set, frozenset, list, tuple)):
        actors = frozenset(make_ref(a) if isinstance(a, Model) and a.pk is not None else a for a in actors)
    return check_actors(actors, name)


def excluded_actors(request, kind: str) -> frozenset:
    """Return the actors ``request``'s reader leaves out of a ``kind`` page, by ``TIMAK_EXCLUDED_ACTORS``."""
    if kind not in KINDS:
        raise InvalidTimelineInput(f"the kind of page is one of {', '.join(KINDS)}, not {kind!r}")
    found = excluded_callable()
    if found is None:
        return frozenset()
    return as_refs(found(request, kind), f"{SETTING}'s answer")


class ExcludedActorsMixin:
    """A view's ``get_excluded_actors()`` hook, read once a request: ``TimelineView`` and the DRF views share it."""

    #: The kind of page, passed to ``TIMAK_EXCLUDED_ACTORS``: "home", "profile" or "notifications".
    timeline_kind = "home"

    def get_excluded_actors(self):
        """Return the actors this reader leaves out (refs or instances); by default ``TIMAK_EXCLUDED_ACTORS``'s."""
        return excluded_actors(self.request, self.timeline_kind)

    def excluded_refs(self) -> frozenset:
        """Return ``get_excluded_actors()`` as refs; raise InvalidTimelineInput for an answer that is no set of actors."""
        if not hasattr(self, "_excluded_actors"):
            self._excluded_actors = as_refs(self.get_excluded_actors())
        return self._excluded_actors
