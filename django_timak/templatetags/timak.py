"""Template tags: read a page of a timeline, and render one item through a fallback list."""

import logging

from django import template
from django.db.models import Model

from ..exceptions import InvalidCursor, InvalidKey, InvalidTimelineInput, TimelineUnavailable
from ..exclusion_settings import as_refs
from ..hydrate import Notification, hydrate
from ..notifications import read_marks, unread_count as count_unread
from ..reading import read_page

logger = logging.getLogger("django_timak")
register = template.Library()

DEFAULT_ITEM_TEMPLATE = "django_timak/items/item.html"
NOTIFICATION_TEMPLATE = "django_timak/items/notification.html"
#: The page size when the template gives none, or one that is not a number from 1 to MAX_LIMIT.
DEFAULT_LIMIT = 20
MAX_LIMIT = 1000


class TimelineItems(list):
    """A page of timeline items, with the cursors of the next (older) and previous (newer) pages.

    A page that cannot be read is empty rather than an error, since keys and
    cursors come from URLs and the store may be down; a flag says why:
    ``invalid_cursor`` (the cursor was not one of ours), ``invalid_key`` (no
    timeline can have that key), ``unavailable`` (the store did not answer) or
    ``invalid_exclusions`` (``exclude_actors`` was no set of actors).
    """

    def __init__(
        self, items=(), next_cursor=None, *, previous_cursor=None, invalid_cursor=False, invalid_key=False,
        unavailable=False, invalid_exclusions=False,
    ):
        super().__init__(items)
        self.previous_cursor = previous_cursor
        self.invalid_exclusions = invalid_exclusions
        self.next_cursor = next_cursor
        self.invalid_cursor = invalid_cursor
        self.invalid_key = invalid_key
        self.unavailable = unavailable

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None


def page_size(limit, default: int = DEFAULT_LIMIT) -> int:
    """Return ``limit`` as a page size: an int or a string of one, from 1 to MAX_LIMIT.

    Anything else (a non-number from a query parameter, 0, a million) gives
    ``default``, so a template never fails on its page size.
    """
    if isinstance(limit, str):
        text = limit.strip()
        limit = int(text) if text.isascii() and text.isdigit() and len(text) <= 7 else None
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        return default
    return limit


@register.simple_tag
def timeline(key, limit=DEFAULT_LIMIT, timeline="default", cursor=None, sources=(), unread=False, exclude_actors=()):
    """Return a page of a timeline: model instances for rows, values for other items.

    One read of the timeline and one query per model on the page::

        {% load timak %}
        {% timeline "user:42:home" limit=20 cursor=request.GET.cursor as items %}
        {% if items.unavailable %}<p>The timeline is unavailable right now.</p>{% endif %}
        {% for item in items %}{% timeline_item item %}{% endfor %}
        {% if items.has_previous %}<a href="?cursor={{ items.previous_cursor }}">Newer</a>{% endif %}
        {% if items.has_next %}<a href="?cursor={{ items.next_cursor }}">Older</a>{% endif %}

    ``limit`` may be a string (``request.GET.n``); one outside 1..MAX_LIMIT gives 20.
    ``sources`` are more keys merged into the page (pulled authors' timelines).
    Groups come back as ``Notification``s (actors, ``actor_count``, target); with
    ``unread=True`` they carry the reader's ``unread`` and ``unseen`` flags.
    ``exclude_actors`` (refs or instances: the reader's blocks) leaves their items out;
    a value that is no set of actors shows nothing, with ``invalid_exclusions`` set.
    """
    try:
        excluded = as_refs(exclude_actors or ())
    except InvalidTimelineInput as e:
        logger.error("timak: {%% timeline %%} cannot exclude %r: %s", exclude_actors, e)
        return TimelineItems(invalid_exclusions=True)
    try:
        page = read_page(
            timeline, key, limit=page_size(limit), cursor=cursor or None, sources=sources or (), exclude_actors=excluded
        )
    except InvalidCursor as e:
        logger.warning("timak: {%% timeline %%} ignored a bad cursor for %r: %s", key, e)
        return TimelineItems(invalid_cursor=True)
    except InvalidKey as e:
        logger.warning("timak: {%% timeline %%} cannot read key %r: %s", key, e)
        return TimelineItems(invalid_key=True)
    except TimelineUnavailable:
        return TimelineItems(unavailable=True)
    try:
        marks = read_marks(timeline, key) if unread else None
    except TimelineUnavailable:
        marks = None
    return TimelineItems(hydrate(page.entries, marks), page.next_cursor, previous_cursor=page.previous_cursor)


@register.simple_tag
def unread_count(key, timeline="default", exclude_actors=()):
    """Return the reader's ``Unread`` counts (``.unread``, ``.unseen``) of a feed; None if the store is down::

        {% unread_count "user:42:notifications" as counts %}
        {% if counts.unread %}<span class="badge">{{ counts.unread }}</span>{% endif %}

    One read of the feed and its marks, decoding only the items above the marks.
    ``exclude_actors`` leaves the reader's blocked actors out of the counts.
    """
    try:
        return count_unread(timeline, key, exclude_actors=as_refs(exclude_actors or ()))
    except (InvalidTimelineInput, TimelineUnavailable):  # InvalidKey among them
        return None


def item_template_names(item) -> list[str]:
    """Return the templates tried for ``item``, most specific first.

    A row of ``blog.Post`` tries ``django_timak/items/blog/post.html``; every item
    falls back to ``django_timak/items/item.html``.
    """
    if isinstance(item, Model):
        meta = item._meta
        return [f"django_timak/items/{meta.app_label}/{meta.model_name}.html", DEFAULT_ITEM_TEMPLATE]
    if isinstance(item, Notification):
        return [NOTIFICATION_TEMPLATE, DEFAULT_ITEM_TEMPLATE]
    return [DEFAULT_ITEM_TEMPLATE]


@register.simple_tag(takes_context=True)
def timeline_item(context, item):
    """Render one item with the first template of its fallback list, as ``item``::

        {% for item in items %}{% timeline_item item %}{% endfor %}

    The item template sees the page's context too (``request``, ``user``,
    ``csrf_token``), so it can show per-user actions.
    """
    found = context.template.engine.select_template(item_template_names(item))
    with context.push(item=item):
        return found.render(context)
