"""The embedded default: timelines as rows of the Django database.

A key holds one written value (``django_timak_timeline``) plus the values appended
to it since (``django_timak_delta``), read together, in one query, as siblings.
Writes are optimistic: an update succeeds only if the row still has the version it
was read with, so two writers never overwrite each other; the loser gets
``WriteConflict`` and its timeline reads again. A write removes exactly the appended
rows its read returned, so a value appended meanwhile survives it. Appends insert
rows and never touch the written value, so they never conflict; a batch of them is
one ``COPY`` on PostgreSQL with psycopg 3, elsewhere one multi-row INSERT. No row is locked while a timeline is merged, and readers never
wait for writers.
"""

import contextlib
import sqlite3
from typing import NamedTuple

from django.db import DatabaseError, IntegrityError, connections, router, transaction

from ..exceptions import TimelineBackendError, WriteConflict
from .base import BaseBackend, Versioned


class Seen(NamedTuple):
    """A read's token: the written value's version (None: none) and the appended rows' ids."""

    version: int | None
    deltas: tuple[int, ...]


def statement_params(connection) -> int:
    """Return how many parameters one statement may carry on ``connection``.

    Django assumes SQLite's historical 999; the library linked says how many it takes.
    """
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 65535


def chunks(items: list, size: int):
    """Yield consecutive slices of ``items`` of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _copied(cursor, table: str, key_column: str, values: dict) -> bool:
    """Write ``values`` as rows of ``table`` with one binary ``COPY`` where the driver offers it; return whether it did.

    psycopg 3 on PostgreSQL has ``cursor.copy``; other vendors and psycopg2 answer
    False, and the caller inserts instead.
    """
    raw = getattr(cursor, "cursor", cursor)
    if cursor.db.vendor != "postgresql" or not hasattr(raw, "copy") or not hasattr(raw, "connection"):
        return False
    sql = f"COPY {table} ({key_column}, value) FROM STDIN (FORMAT BINARY)"
    # Logged like any statement where Django logs them (DEBUG, CaptureQueriesContext).
    logged = cursor.debug_sql(sql) if hasattr(cursor, "debug_sql") else contextlib.nullcontext()
    with logged, cursor.db.wrap_database_errors, raw.copy(sql) as copy:
        copy.set_types(["varchar", "bytea"])
        for row in values.items():
            copy.write_row(row)
    return True


def _versioned(rows) -> Versioned:
    """Return one key's ``(appended, number, value)`` rows, written value first, as a read."""
    if not rows:
        return Versioned([], None)
    version = rows[0][1] if rows[0][0] == 0 else None
    deltas = tuple(number for appended, number, _ in rows if appended)
    return Versioned([bytes(value) for _, _, value in rows], Seen(version, deltas))


class DatabaseBackend(BaseBackend):
    """Timelines in the ``django_timak_timeline`` and ``django_timak_delta`` tables of database ``using``."""

    def __init__(self, using: str | None = None):
        self._using = using

    @property
    def using(self):
        from ..models import StoredTimeline

        return self._using or router.db_for_write(StoredTimeline)

    @property
    def _model(self):
        from ..models import StoredTimeline

        return StoredTimeline.objects.using(self.using)

    @property
    def _deltas(self):
        from ..models import TimelineDelta

        return TimelineDelta.objects.using(self.using)

    def _names(self, connection) -> tuple[str, str, str]:
        """Return the quoted names of both tables and of their key column (a reserved word in MySQL)."""
        from ..models import StoredTimeline, TimelineDelta

        quote = connection.ops.quote_name
        return quote(StoredTimeline._meta.db_table), quote(TimelineDelta._meta.db_table), quote("key")

    def writes_in(self, using: str) -> bool:
        """Return True if this store's rows live in database ``using``: its appends can join that transaction."""
        return self.using == using

    def read(self, key):
        return self.read_many([key])[key]

    def read_many(self, keys):
        """Return every key's written value and appended values in one query (per chunk of keys)."""
        keys = list(dict.fromkeys(keys))
        connection = connections[self.using]
        timeline, delta, key_column = self._names(connection)
        rows = []
        try:
            with connection.cursor() as cursor:
                for chunk in chunks(keys, statement_params(connection) // 2):
                    places = ", ".join(["%s"] * len(chunk))
                    cursor.execute(
                        f"SELECT {key_column}, 0, version, value FROM {timeline} WHERE {key_column} IN ({places}) "
                        f"UNION ALL SELECT {key_column}, 1, id, value FROM {delta} WHERE {key_column} IN ({places}) "
                        "ORDER BY 1, 2, 3",
                        chunk + chunk,
                    )
                    rows.extend(cursor.fetchall())
        except DatabaseError as e:
            shown = repr(keys[0]) if len(keys) == 1 else f"{len(keys)} keys"
            raise TimelineBackendError(f"reading {shown} failed: {e}", key=keys[0] if keys else None) from e
        by_key = {key: [] for key in keys}
        for key, appended, number, value in rows:
            by_key[key].append((appended, number, value))
        return {key: _versioned(found) for key, found in by_key.items()}

    def write(self, key, value, token):
        version, deltas = token or Seen(None, ())
        try:
            with transaction.atomic(using=self.using):
                if version is None:
                    self._model.create(key=key, value=value, version=1)
                elif not self._model.filter(key=key, version=version).update(value=value, version=version + 1):
                    raise WriteConflict(f"{key!r} changed since it was read", key=key)
                self._delete_deltas(deltas)
        except IntegrityError as e:
            raise WriteConflict(f"{key!r} was created concurrently", key=key) from e
        except DatabaseError as e:
            raise TimelineBackendError(f"writing {key!r} failed: {e}", key=key) from e

    def write_many(self, values):
        """Write every value in one transaction, one commit; a key that changed since its read is left out.

        Keys read with a written value are updated by version; new keys are inserted
        together (one by one, each in a savepoint, only when one was created meanwhile);
        the appended rows the written keys' reads saw are then deleted together. A
        compaction writes every key of a fan-out, so no statement runs once per key
        that need not.
        """
        connection = connections[self.using]
        timeline, _, key_column = self._names(connection)
        conflicted, merged, created = set(), [], {}
        try:
            with transaction.atomic(using=self.using):
                with connection.cursor() as cursor:
                    for key, (value, token) in values.items():
                        if token is None or token.version is None:
                            created[key] = (value, token)
                            continue
                        cursor.execute(
                            f"UPDATE {timeline} SET value = %s, version = %s WHERE {key_column} = %s AND version = %s",
                            [value, token.version + 1, key, token.version],
                        )
                        if cursor.rowcount:
                            merged.extend(token.deltas)
                        else:
                            conflicted.add(key)
                    conflicted |= self._create_many(cursor, created, merged)
                self._delete_deltas(merged)
            return conflicted
        except DatabaseError as e:
            raise TimelineBackendError(f"writing {len(values)} keys failed: {e}", key=next(iter(values), None)) from e

    def _create_many(self, cursor, created: dict, merged: list) -> set:
        """Insert the keys read as having no written value; return those another writer created first.

        One multi-row INSERT (per chunk), in a savepoint; if a key exists by then, the
        chunk is inserted key by key, each in its own savepoint, and the existing ones
        are conflicts. The deltas of each key inserted join ``merged``.
        """
        timeline, _, key_column = self._names(cursor.db)
        items = list(created.items())
        conflicted = set()
        for chunk in chunks(items, statement_params(cursor.db) // 3):
            try:
                with transaction.atomic(using=self.using):
                    places = ", ".join(["(%s, %s, 1)"] * len(chunk))
                    params = [param for key, (value, _) in chunk for param in (key, value)]
                    cursor.execute(f"INSERT INTO {timeline} ({key_column}, value, version) VALUES {places}", params)
            except IntegrityError:
                inserted = []
                for key, (value, token) in chunk:
                    try:
                        with transaction.atomic(using=self.using):
                            cursor.execute(
                                f"INSERT INTO {timeline} ({key_column}, value, version) VALUES (%s, %s, 1)", [key, value]
                            )
                    except IntegrityError:
                        conflicted.add(key)
                    else:
                        inserted.append((key, (value, token)))
                chunk = inserted
            merged.extend(delta for _, (_, token) in chunk if token is not None for delta in token.deltas)
        return conflicted

    def append(self, key, value):
        return self.append_many({key: value})[key]

    def append_many(self, values):
        """Insert every value (PostgreSQL: one ``COPY``; elsewhere multi-row INSERTs), then count each key's values in one query.

        The count follows the commit: a count inside the inserting transaction would
        miss the rows of appends committing beside it (PostgreSQL's READ COMMITTED),
        and appenders that all see a count under the threshold would all skip
        compaction. Counted after, the last of them sees every row committed before.
        """
        if not values:
            return {}
        connection = connections[self.using]
        timeline, delta, key_column = self._names(connection)
        limit = statement_params(connection)
        rows = [param for pair in values.items() for param in pair]
        keys = list(values)
        # A compaction between the commit and the count may have merged a key's rows into its value.
        counts = dict.fromkeys(keys, 1)
        try:
            with transaction.atomic(using=self.using), connection.cursor() as cursor:
                if not _copied(cursor, delta, key_column, values):
                    for chunk in chunks(rows, limit - limit % 2):
                        places = ", ".join(["(%s, %s)"] * (len(chunk) // 2))
                        cursor.execute(f"INSERT INTO {delta} ({key_column}, value) VALUES {places}", chunk)
            with connection.cursor() as cursor:
                for chunk in chunks(keys, limit):
                    places = ", ".join(["%s"] * len(chunk))
                    written = f"(SELECT COUNT(*) FROM {timeline} t WHERE t.{key_column} = d.{key_column})"
                    cursor.execute(
                        f"SELECT d.{key_column}, COUNT(*) + {written} FROM {delta} d "
                        f"WHERE d.{key_column} IN ({places}) GROUP BY d.{key_column}",
                        chunk,
                    )
                    counts.update(cursor.fetchall())
        except DatabaseError as e:
            raise TimelineBackendError(f"appending to {len(values)} keys failed: {e}", key=keys[0]) from e
        return counts

    def delete(self, key, token):
        """Remove the written value and the appended values ``token`` saw; later appends survive."""
        try:
            with transaction.atomic(using=self.using):
                self._model.filter(key=key).delete()
                self._delete_deltas(token.deltas if token else ())
        except DatabaseError as e:
            raise TimelineBackendError(f"deleting {key!r} failed: {e}", key=key) from e

    def _delete_deltas(self, ids):
        """Delete the appended rows ``ids``: plain DELETEs, no ORM collector (nothing refers to them)."""
        connection = connections[self.using]
        _, delta, _ = self._names(connection)
        with connection.cursor() as cursor:
            for chunk in chunks(list(ids), statement_params(connection)):
                cursor.execute(f"DELETE FROM {delta} WHERE id IN ({', '.join(['%s'] * len(chunk))})", chunk)

    def ping(self):
        try:
            connections[self.using].ensure_connection()
        except DatabaseError:
            return False
        return True

    def check(self):
        """Return check messages: an unknown ``USING``; SQLite that fails concurrent writers.

        With Django's default SQLite settings a transaction reads, then upgrades its lock
        to write, and concurrent writers fail with "database is locked" however long the
        timeout; ``transaction_mode: IMMEDIATE`` takes the write lock first, so they
        wait their turn (with WAL, readers never wait).
        """
        from django.core import checks

        if self._using is not None and self._using not in connections.settings:
            return [
                checks.Error(
                    f"The database backend's USING {self._using!r} is not a database of DATABASES.",
                    hint=f"Name one of: {', '.join(connections.settings)}.",
                    id="django_timak.E040",
                )
            ]
        database = connections[self.using].settings_dict  # no connection is opened
        if database["ENGINE"] == "django.db.backends.sqlite3" and database["OPTIONS"].get("transaction_mode") != "IMMEDIATE":
            return [
                checks.Warning(
                    f"Timelines are stored in SQLite database {self.using!r} without transaction_mode IMMEDIATE: "
                    "under several processes, concurrent saves and deletes fail with 'database is locked'.",
                    hint='Set DATABASES[...]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", '
                    '"init_command": "PRAGMA journal_mode=WAL;"}, or store timelines in another database.',
                    id="django_timak.W040",
                )
            ]
        return []

    def close(self):
        """Django closes its own connections; nothing to release here."""
