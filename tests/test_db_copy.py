"""PostgreSQL appends with one COPY (psycopg 3); every other database, or a driver without COPY, inserts rows."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from conftest import DATABASE_ALIASES
from django_timak import Timeline
from django_timak.backends.db import DatabaseBackend
from django_timak.entries import Entry

DATABASE = pytest.mark.django_db(transaction=True, databases=DATABASE_ALIASES)
VALUES = {"k": b"\x00tk\x02\xff", "ключ:😀": bytes(range(256)) * 40, "empty": b""}


def statements(using, call):
    with CaptureQueriesContext(connections[using]) as queries:
        call()
    return [q["sql"].split()[0].upper() for q in queries if q["sql"].split()[0].upper() in ("COPY", "INSERT")]


@DATABASE
def test_appended_values_read_back_byte_for_byte_with_their_counts(using):
    backend = DatabaseBackend(using=using)
    backend.write("k", b"base", None)
    assert backend.append_many(VALUES) == {"k": 2, "ключ:😀": 1, "empty": 1}
    found = backend.read_many(list(VALUES))
    assert sorted(found["k"].values) == [b"\x00tk\x02\xff", b"base"]
    assert found["ключ:😀"].values == [VALUES["ключ:😀"]] and found["empty"].values == [b""]


@DATABASE
def test_postgresql_appends_with_one_copy_and_other_databases_insert(using):
    backend = DatabaseBackend(using=using)
    seen = statements(using, lambda: backend.append_many({f"k{n}": b"v" for n in range(5000)}))
    assert seen == (["COPY"] if connections[using].vendor == "postgresql" else ["INSERT"])
    assert len(backend.read_many([f"k{n}" for n in range(5000)])) == 5000


@pytest.mark.skipif("postgres" not in DATABASE_ALIASES, reason="needs TIMAK_TEST_POSTGRES")
@pytest.mark.django_db(transaction=True, databases=["postgres"])
def test_a_driver_without_copy_falls_back_to_the_multi_row_insert(monkeypatch):
    import psycopg

    monkeypatch.delattr(psycopg.Cursor, "copy")
    backend = DatabaseBackend(using="postgres")
    assert statements("postgres", lambda: backend.append_many(VALUES)) == ["INSERT"]
    assert backend.read("ключ:😀").values == [VALUES["ключ:😀"]]


@DATABASE
def test_a_timeline_fanned_out_by_copy_merges_on_read(using):
    timeline = Timeline(DatabaseBackend(using=using), max_items=10)
    timeline.add("a", 1, 1, {"n": 1})
    for n in (2, 3):
        change = Entry(n, n, n << 40, {"n": n})
        timeline.append_changes({"a": [change], "b": [change]})
    assert timeline.get("a") == [{"n": 3}, {"n": 2}, {"n": 1}] and timeline.get("b") == [{"n": 3}, {"n": 2}]
