"""Shared pytest fixtures; the Riak test server's fixtures live in tests.riak_fixtures."""

import pytest
from django.conf import settings

pytest_plugins = ["tests.riak_fixtures"]

#: Database aliases the database-backend tests run on: SQLite, and PostgreSQL when
#: TIMAK_TEST_POSTGRES is set.
DATABASE_ALIASES = [alias for alias in ("default", "postgres") if alias in settings.DATABASES]


@pytest.fixture
def memory_backend():
    from django_timak.backends.memory import MemoryBackend

    backend = MemoryBackend()
    yield backend
    backend.clear()
