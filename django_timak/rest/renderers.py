"""``ActivityStreamsRenderer``: answers ``Accept: application/activity+json`` and ``?format=as2``.

The views build the AS2 document themselves (``django_timak.activitystreams``)
when this renderer was chosen; it only writes JSON under AS2's media type.
"""

from rest_framework.renderers import JSONRenderer

from ..activitystreams import MEDIA_TYPE


class ActivityStreamsRenderer(JSONRenderer):
    media_type = MEDIA_TYPE
    format = "as2"
