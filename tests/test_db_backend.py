"""The embedded default: the database backend on SQLite, and on PostgreSQL when configured."""

import threading

import pytest
from django.db import connections

from conftest import DATABASE_ALIASES
from django_timak import Timeline
from django_timak.backends.db import DatabaseBackend
from django_timak.exceptions import WriteConflict
from tests.timak_example import run_timak_example

pytestmark = pytest.mark.django_db(transaction=True, databases=DATABASE_ALIASES)


def test_builds_with_no_arguments():
    assert DatabaseBackend().using == "default"


def test_read_write_delete(using):
    backend = DatabaseBackend(using=using)
    assert backend.read("k").values == [] and backend.read("k").token is None
    backend.write("k", b"one", None)
    first = backend.read("k")
    assert first.values == [b"one"]
    backend.write("k", b"two", first.token)
    with pytest.raises(WriteConflict):
        backend.write("k", b"stale", first.token)
    with pytest.raises(WriteConflict):
        backend.write("k", b"blind", None)
    assert backend.read("k").values == [b"two"]
    backend.delete("k", backend.read("k").token)
    assert backend.read("k").values == []
    assert backend.ping()


def test_timak_example(using):
    line = f"from django_timak.backends.db import DatabaseBackend; conn = DatabaseBackend(using={using!r})"
    assert run_timak_example(line) == (0, 10)


@pytest.mark.slow
def test_concurrent_writers_lose_no_update(using):
    """8 threads each add 200 distinct ids to one key at the same time."""
    tl = Timeline(DatabaseBackend(using=using), max_items=2000)
    start = threading.Barrier(8)
    errors = []

    def writer(n):
        try:
            start.wait()
            for i in range(200):
                tl.add("crowded", f"{n}-{i}", i)
        except Exception as e:  # reported below, with the thread's number
            errors.append((n, e))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(tl.get("crowded")) == 1600
