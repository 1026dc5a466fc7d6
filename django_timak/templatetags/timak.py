"""Template tags: read a page of a timeline, and render one item through a fallback list."""

import logging

from django import template
from django.db.models import Model

from ..exceptions import InvalidCursor
from ..handler import timelines
from ..hydrate import hydrate

logger = logging.getLogger("django_timak")
register = template.Library()

DEFAULT_ITEM_TEMPLATE = "django_timak/items/item.html"


class TimelineItems(list):
    """A page of timeline items, with the cursor of the next page.

    ``invalid_cursor`` is True when the cursor given was not one of ours: the page
    is then empty rather than an error, since cursors come from URLs.
    """

    def __init__(self, items=(), next_cursor=None, invalid_cursor=False):
        super().__init__(items)
        self.next_cursor = next_cursor
        self.invalid_cursor = invalid_cursor

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


@register.simple_tag
def timeline(key, limit=20, timeline="default", cursor=None):
    """Return a page of a timeline: model instances for rows, values for other items.

    One read of the timeline and one query per model on the page::

        {% load timak %}
        {% timeline "user:42:home" limit=20 cursor=request.GET.cursor as items %}
        {% for item in items %}{% timeline_item item %}{% endfor %}
        {% if items.has_next %}<a href="?cursor={{ items.next_cursor }}">Older</a>{% endif %}
    """
    try:
        page = timelines[timeline].page(key, limit=limit, cursor=cursor or None)
    except InvalidCursor as e:
        logger.warning("timak: {%% timeline %%} ignored a bad cursor for %r: %s", key, e)
        return TimelineItems(invalid_cursor=True)
    return TimelineItems(hydrate(page.entries), page.next_cursor)


def item_template_names(item) -> list[str]:
    """Return the templates tried for ``item``, most specific first.

    A row of ``blog.Post`` tries ``django_timak/items/blog/post.html``; every item
    falls back to ``django_timak/items/item.html``.
    """
    if isinstance(item, Model):
        meta = item._meta
        return [f"django_timak/items/{meta.app_label}/{meta.model_name}.html", DEFAULT_ITEM_TEMPLATE]
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
