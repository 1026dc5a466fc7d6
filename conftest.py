"""Shared pytest fixtures; the Riak test server's fixtures live in tests.riak_fixtures."""

import os

import pytest

pytest_plugins = ["tests.riak_fixtures"]

#: Database aliases the database-backend tests run on: SQLite, and PostgreSQL when
#: TIMAK_TEST_POSTGRES is set (tests/settings.py adds the "postgres" alias then).
DATABASE_ALIASES = ["default"] + (["postgres"] if os.environ.get("TIMAK_TEST_POSTGRES") else [])


@pytest.fixture(params=DATABASE_ALIASES)
def using(request):
    """Each database alias the database tests run on, in turn."""
    return request.param


@pytest.fixture
def memory_backend():
    from django_timak.backends.memory import MemoryBackend

    backend = MemoryBackend()
    yield backend
    backend.clear()


@pytest.fixture
def clear_memory():
    """Empty the MemoryBackend alias before and after a test (it outlives transactions)."""
    from django_timak import timelines

    timelines["memory"].backend.clear()
    yield
    timelines["memory"].backend.clear()


@pytest.fixture
def write_attempts(monkeypatch):
    """Return the list of ``(keys, error or None)`` of every append call fan-out and drains try.

    Counting calls, not timing them, shows how long a caller waited on a failing
    store without flaking on a busy machine.
    """
    from django_timak import operations

    attempts = []
    real_write = operations.write

    def write(alias, groups):
        keys = [ops[0].key for ops in groups]
        try:
            real_write(alias, groups)
        except Exception as e:
            attempts.append((keys, e))
            raise
        attempts.append((keys, None))

    monkeypatch.setattr(operations, "write", write)
    return attempts
