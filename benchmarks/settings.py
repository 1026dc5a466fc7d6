"""Settings of the benchmark project: the test project's apps, on fresh databases.

SQLite is a file in the temporary directory; PostgreSQL is used when
``TIMAK_BENCH_POSTGRES`` (or the test suite's ``TIMAK_TEST_POSTGRES``) holds a
postgres:// URL. Each run creates databases of its own and drops them after.
"""

import os
import tempfile

from tests.settings import postgres_from_url

SECRET_KEY = "django-timak-benchmarks"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django_timak", "tests"]
AUTH_USER_MODEL = "tests.User"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(tempfile.gettempdir(), "django-timak-bench.sqlite3"),
        "OPTIONS": {"timeout": 30},
        "TEST": {"NAME": os.path.join(tempfile.gettempdir(), f"django-timak-bench-{os.getpid()}.sqlite3")},
    }
}
POSTGRES_URL = os.environ.get("TIMAK_BENCH_POSTGRES") or os.environ.get("TIMAK_TEST_POSTGRES")
if POSTGRES_URL:
    DATABASES["postgres"] = {**postgres_from_url(POSTGRES_URL), "TEST": {"NAME": f"timak_bench_{os.getpid()}"}}

TIMAK_TIMELINES = {
    "default": {"BACKEND": "django_timak.backends.db.DatabaseBackend", "MAX_ITEMS": 1000},
    "memory": {"BACKEND": "django_timak.backends.memory.MemoryBackend", "MAX_ITEMS": 100},
}
DATABASE_ROUTERS = ["benchmarks.databases.TimelinesOnlyElsewhere"]
