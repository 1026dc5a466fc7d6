"""The storage contract's append: a blind write beside what a key holds, on every store.

An appended value reads back as one more sibling; a write whose token saw it removes
it, and one appended after that read survives the write. ``append`` counts what the
key holds, so a timeline knows when to compact without reading.
"""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from conftest import DATABASE_ALIASES
from django_timak.backends.db import DatabaseBackend
from django_timak.backends.memory import MemoryBackend
from django_timak.exceptions import TimelineBackendError, WriteConflict

DATABASE = pytest.mark.django_db(transaction=True, databases=DATABASE_ALIASES)
DATABASES = [pytest.param(f"database:{alias}", marks=DATABASE) for alias in DATABASE_ALIASES]


def build(store):
    """Return the store a test parameter names: memory, memory with siblings, or a database."""
    if store.startswith("database:"):
        return DatabaseBackend(using=store.split(":", 1)[1])
    return MemoryBackend(allow_mult=store == "siblings")


@pytest.fixture(params=["memory", "siblings", *DATABASES])
def backend(request):
    return build(request.param)


def test_an_append_to_a_missing_key_reads_back_as_its_only_value(backend):
    assert backend.append("k", b"first") == 1
    assert backend.read("k").values == [b"first"]


def test_appended_values_read_back_beside_the_written_one_and_are_counted(backend):
    backend.write("k", b"base", None)
    assert backend.append("k", b"one") == 2
    assert backend.append("k", b"two") == 3
    assert sorted(backend.read("k").values) == [b"base", b"one", b"two"]


def test_a_write_back_removes_exactly_the_appended_values_it_read(backend):
    backend.write("k", b"base", None)
    backend.append("k", b"one")
    backend.append("k", b"two")
    backend.write("k", b"merged", backend.read("k").token)
    assert backend.read("k").values == [b"merged"]
    assert backend.append("k", b"three") == 2


def test_a_value_appended_during_a_read_merge_write_survives_it(backend):
    backend.write("k", b"base", None)
    backend.append("k", b"read")
    token = backend.read("k").token
    backend.append("k", b"meanwhile")
    backend.write("k", b"merged", token)
    assert sorted(backend.read("k").values) == [b"meanwhile", b"merged"]


def test_a_key_that_only_received_appends_is_written_with_the_token_that_saw_them(backend):
    backend.append("k", b"one")
    backend.write("k", b"merged", backend.read("k").token)
    assert backend.read("k").values == [b"merged"]


def test_append_many_appends_to_every_key_and_counts_each(backend):
    backend.write("written", b"base", None)
    backend.append("twice", b"one")
    counts = backend.append_many({"written": b"a", "twice": b"b", "new": b"c"})
    assert counts == {"written": 2, "twice": 2, "new": 1}
    assert sorted(backend.read("twice").values) == [b"b", b"one"]
    assert backend.read("new").values == [b"c"]
    assert backend.append_many({}) == {}


def test_a_delete_removes_what_its_token_saw_and_keeps_later_appends(backend):
    backend.write("k", b"base", None)
    backend.append("k", b"one")
    token = backend.read("k").token
    backend.append("k", b"later")
    backend.delete("k", token)
    assert backend.read("k").values == [b"later"]


@pytest.mark.parametrize("store", ["memory", *DATABASES])
def test_without_siblings_a_stale_write_fails_and_removes_no_appended_value(store):
    backend = build(store)
    backend.write("k", b"base", None)
    backend.append("k", b"one")
    stale = backend.read("k")
    backend.write("k", b"newer", stale.token)
    backend.append("k", b"two")
    with pytest.raises(WriteConflict):
        backend.write("k", b"stale", stale.token)
    assert sorted(backend.read("k").values) == [b"newer", b"two"]


# The database's round trips


@DATABASE
def test_a_database_read_of_a_value_and_its_appended_rows_is_one_query(using):
    backend = DatabaseBackend(using=using)
    backend.write("k", b"base", None)
    backend.append_many({"k": b"one"})
    with CaptureQueriesContext(connections[using]) as queries:
        found = backend.read("k")
    assert len(queries) == 1
    assert found.values == [b"base", b"one"]


@DATABASE
def test_a_database_batch_of_appends_is_one_insert_and_one_count(using):
    backend = DatabaseBackend(using=using)
    with CaptureQueriesContext(connections[using]) as queries:
        backend.append_many({f"k{n}": b"v" for n in range(300)})
    statements = [query["sql"].split()[0].upper() for query in queries]
    insert = "COPY" if connections[using].vendor == "postgresql" else "INSERT"
    assert [s for s in statements if s not in ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT")] == [insert, "SELECT"]


@DATABASE
def test_a_key_compacted_between_the_insert_and_the_count_is_counted_as_its_value(using):
    backend = DatabaseBackend(using=using)
    backend.write("k", b"base", None)

    def compact_before_counting(execute, sql, params, many, context):
        if "COUNT(*)" in sql:
            backend.write("k", b"merged", backend.read("k").token)
        return execute(sql, params, many, context)

    with connections[using].execute_wrapper(compact_before_counting):
        assert backend.append_many({"k": b"one"}) == {"k": 1}
    assert backend.read("k").values == [b"merged"]


@DATABASE
def test_a_batch_over_the_statement_limit_is_split_and_still_counted(using, monkeypatch):
    from django_timak.backends import db

    monkeypatch.setattr(db, "statement_params", lambda connection: 7)
    backend = DatabaseBackend(using=using)
    backend.write("k3", b"base", None)
    counts = backend.append_many({f"k{n}": b"v" for n in range(10)})
    assert counts == {f"k{n}": 2 if n == 3 else 1 for n in range(10)}


@DATABASE
def test_a_database_that_fails_an_append_raises_a_backend_error(using, monkeypatch):
    backend = DatabaseBackend(using=using)
    monkeypatch.setattr(type(backend), "_names", lambda self, connection: ("no_table", "no_delta", "key"))
    with pytest.raises(TimelineBackendError, match="appending to 1 keys failed"):
        backend.append_many({"k": b"v"})
