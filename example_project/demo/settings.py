"""Settings of the demo: SQLite and the DatabaseBackend, or Riak when ``TIMAK_RIAK_URL`` is set.

A demo, not a deployment: DEBUG is on and the secret key is public. Environment:

- ``TIMAK_RIAK_URL`` (e.g. ``http://127.0.0.1:8098``): keep the timelines in Riak KV,
  in bucket type ``TIMAK_RIAK_BUCKET_TYPE`` (default ``timak``), bucket ``timelines``;
  create the bucket type with ``manage.py timak_riak_setup``.
- ``TIMAK_DEMO_DB``: the SQLite file (default ``example_project/db.sqlite3``).
- ``TIMAK_DEMO_WORKERS=1``: fan-out runs in task workers, not in the request
  (``pip install django-timak[tasks,workers]``, ``manage.py migrate``, then
  ``manage.py db_worker`` beside ``runserver``).
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "django-timak-demo-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_timak",
    "social",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo.urls"
WSGI_APPLICATION = "demo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "social.blocks.notification_exclusions",
            ],
        },
    }
]

# WAL with synchronous=NORMAL: a commit costs no fsync, so per-key fan-out writes are
# cheap, and readers never wait for the writer.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("TIMAK_DEMO_DB") or BASE_DIR / "db.sqlite3",
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "social.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"

STATIC_URL = "static/"

if os.environ.get("TIMAK_RIAK_URL"):
    store = {
        "BACKEND": "django_timak.backends.riak.RiakBackend",
        "OPTIONS": {
            "URL": os.environ["TIMAK_RIAK_URL"],
            "BUCKET_TYPE": os.environ.get("TIMAK_RIAK_BUCKET_TYPE", "timak"),
            "BUCKET": "timelines",
        },
    }
else:
    store = {"BACKEND": "django_timak.backends.db.DatabaseBackend"}

TIMAK_TIMELINES = {"default": {**store, "MAX_ITEMS": 1000}}
#: Blocks and mutes leave their users out of pages at read time (social/blocks.py).
TIMAK_EXCLUDED_ACTORS = "social.blocks.excluded_actors"

#: Accounts followed by more than this many users are pulled: their posts stay in their
#: own timeline, which their followers' home pages merge in at read time.
DEMO_PULL_ABOVE = int(os.environ.get("TIMAK_DEMO_PULL_ABOVE", "100"))

if os.environ.get("TIMAK_DEMO_WORKERS"):
    INSTALLED_APPS.append("django_tasks_db")
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    TIMAK_FANOUT = {"RUN": "task"}
