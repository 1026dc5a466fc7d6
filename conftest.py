"""Shared pytest fixtures; the Riak test server's fixtures live in tests.riak_fixtures."""

import os

import pytest

pytest_plugins = ["tests.riak_fixtures"]

#: Database aliases the database-backend tests run on: SQLite, and PostgreSQL when
#: TIMAK_TEST_POSTGRES is set (tests/settings.py adds the "postgres" alias then).
DATABASE_ALIASES = ["default"] + (["postgres"] if os.environ.get("TIMAK_TEST_POSTGRES") else [])


@pytest.fixture
def memory_backend():
    from django_timak.backends.memory import MemoryBackend

    backend = MemoryBackend()
    yield backend
    backend.clear()
