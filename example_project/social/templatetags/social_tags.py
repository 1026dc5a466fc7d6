"""Presentation helpers of the demo's templates: short relative times and avatar colours."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

from ..notices import describe

register = template.Library()


@register.filter
def ago(moment):
    """Return ``moment`` as a timeline shows it: ``now``, ``5m``, ``3h``, ``2d``, then a date."""
    elapsed = timezone.now() - moment
    if elapsed < timedelta(minutes=1):
        return "now"
    if elapsed < timedelta(hours=1):
        return f"{elapsed.seconds // 60}m"
    if elapsed < timedelta(days=1):
        return f"{elapsed.seconds // 3600}h"
    if elapsed < timedelta(days=7):
        return f"{elapsed.days}d"
    local = timezone.localtime(moment)
    return date_format(local, "M j" if local.year == timezone.localtime().year else "M j, Y")


@register.filter
def hue(user):
    """Return a stable hue (0-359) for ``user``'s avatar, spread around the colour wheel."""
    return user.pk * 137 % 360


@register.filter
def notice(item):
    """Return the sentence of a notification: "Ann, Bob and 3 others liked your post"."""
    return describe(item)
