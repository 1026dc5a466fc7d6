"""Settings of the test project. ``TIMAK_TEST_POSTGRES`` adds a PostgreSQL database."""

import os
import tempfile
from importlib.util import find_spec
from urllib.parse import unquote, urlsplit

import django

SECRET_KEY = "django-timak-tests"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "tests.User"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django_timak",
    "tests",
]
# The task worker tests run fan-out in django-tasks-db's db_worker processes.
if find_spec("django_tasks_db"):
    INSTALLED_APPS.append("django_tasks_db")
# The DRF face's tests (django_timak.rest): its generateschema command.
if find_spec("rest_framework"):
    INSTALLED_APPS.append("rest_framework")

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# A file, not ":memory:": threads then share one database, and SQLite's busy timeout
# serialises their writes (a shared-cache memory database fails them at once).
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(tempfile.gettempdir(), "django-timak-tests.sqlite3"),
        # What the W040 check asks for: writers take the lock first, readers never wait.
        "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
        "TEST": {"NAME": os.path.join(tempfile.gettempdir(), f"django-timak-test-{os.getpid()}.sqlite3")},
    }
}


def postgres_from_url(url):
    """Return a DATABASES entry for a postgres:// URL."""
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        # One test database per run, so concurrent runs on one server never collide.
        "TEST": {"NAME": f"test_{unquote(parts.path.lstrip('/')) or 'timak'}_{os.getpid()}"},
    }


if os.environ.get("TIMAK_TEST_POSTGRES"):
    DATABASES["postgres"] = postgres_from_url(os.environ["TIMAK_TEST_POSTGRES"])

TIMAK_TIMELINES = {
    "default": {"BACKEND": "django_timak.backends.db.DatabaseBackend", "MAX_ITEMS": 1000},
    "memory": {"BACKEND": "django_timak.backends.memory.MemoryBackend", "MAX_ITEMS": 100},
}

TIMAK_FANOUT = {"RUN": "inline"}

# Fan-out through the tasks framework runs on the Immediate backend in the tests:
# django.tasks on Django 6, the django-tasks backport on 5.2.
_TASKS_PACKAGE = "django.tasks" if django.VERSION >= (6,) else "django_tasks"
TASKS = {"default": {"BACKEND": f"{_TASKS_PACKAGE}.backends.immediate.ImmediateBackend"}}

# A test that runs manage.py in a subprocess hands it settings this way (JSON), e.g.
# the test database's file and the Riak test server's address.
if os.environ.get("TIMAK_TEST_OVERRIDES"):
    import json

    for _name, _value in json.loads(os.environ["TIMAK_TEST_OVERRIDES"]).items():
        globals()[_name] = _value
