"""Bounded, unique-by-id, score-ordered timelines for Django.

Importing this package imports no Django: the public names below load lazily, so
settings modules and tools can import it before Django is configured.
"""

__version__ = "0.1.0"

__all__ = ["Timeline", "timelines", "TimelineMixin", "TimelineField"]

_LAZY = {
    "Timeline": "django_timak.timeline",
    "timelines": "django_timak.handler",
    "TimelineMixin": "django_timak.declarations",
    "TimelineField": "django_timak.declarations",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'django_timak' has no attribute {name!r}")
