"""Settings of the benchmark project: the test project's apps, on fresh databases.

SQLite is a file in the temporary directory; PostgreSQL is used when
``TIMAK_BENCH_POSTGRES`` (a postgres:// URL) is set, as ``make bench`` does when a
server answers.
"""

import os
import tempfile

from tests.settings import postgres_from_url

SECRET_KEY = "django-timak-benchmarks"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django_timak", "tests"]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(tempfile.gettempdir(), "django-timak-bench.sqlite3"),
        "OPTIONS": {"timeout": 30},
        "TEST": {"NAME": os.path.join(tempfile.gettempdir(), f"django-timak-bench-{os.getpid()}.sqlite3")},
    }
}
if os.environ.get("TIMAK_BENCH_POSTGRES"):
    DATABASES["postgres"] = postgres_from_url(os.environ["TIMAK_BENCH_POSTGRES"])

TIMAK_TIMELINES = {
    "default": {"BACKEND": "django_timak.backends.db.DatabaseBackend", "MAX_ITEMS": 1000},
}
