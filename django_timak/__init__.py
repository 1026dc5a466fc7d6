"""Bounded, unique-by-id, score-ordered timelines for Django.

Importing this package imports no Django: the public names below load lazily, so
settings modules and tools can import it before Django is configured.
"""

from .aliases import lazy_names

__version__ = "0.1.0"

__all__ = ["Timeline", "timelines", "TimelineMixin", "TimelineField"]

__getattr__ = lazy_names(
    __name__,
    {
        "Timeline": "django_timak.timeline",
        "timelines": "django_timak.handler",
        "TimelineMixin": "django_timak.declarations",
        "TimelineField": "django_timak.declarations",
    },
)
