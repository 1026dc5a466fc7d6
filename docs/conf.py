"""Sphinx configuration of django-timak's documentation (``make docs``)."""

import os
import sys

# Autodoc reads the modules of this checkout, not an installed copy.
sys.path.insert(0, os.path.abspath(".."))

# The modules documented with autodoc (timeline, entries, pagination) import no Django.
# Should one ever need it: os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings", then
# django.setup(), here.

import django_timak  # noqa: E402

project = "django-timak"
author = "the django-timak authors"
copyright = "2026, the django-timak authors"
release = django_timak.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

exclude_patterns = ["_build"]
# README.rst-style pages use ``code``; a bare `name` renders as code too.
default_role = "code"

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}

# No intersphinx: the build must pass offline, and a missing inventory is a warning.

html_theme = "furo"
html_title = f"django-timak {release}"
