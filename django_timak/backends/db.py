"""The embedded default: timelines as rows of the Django database.

Writes are optimistic: an update succeeds only if the row still has the version it
was read with, so two writers never overwrite each other; the loser gets
``WriteConflict`` and its timeline reads again. No row is locked while a timeline
is merged, and readers never wait for writers.
"""

from django.db import DatabaseError, IntegrityError, connections, router, transaction

from ..exceptions import TimelineBackendError, WriteConflict
from .base import BaseBackend, Versioned


class DatabaseBackend(BaseBackend):
    """Timelines in the ``django_timak_timeline`` table of database ``using``."""

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

    def read(self, key):
        try:
            row = self._model.filter(key=key).values_list("value", "version").first()
        except DatabaseError as e:
            raise TimelineBackendError(f"reading {key!r} failed: {e}", key=key) from e
        if row is None:
            return Versioned([], None)
        return Versioned([bytes(row[0])], row[1])

    def write(self, key, value, token):
        try:
            if token is None:
                with transaction.atomic(using=self.using):
                    self._model.create(key=key, value=value, version=1)
                return
            updated = self._model.filter(key=key, version=token).update(value=value, version=token + 1)
        except IntegrityError as e:
            raise WriteConflict(f"{key!r} was created concurrently", key=key) from e
        except DatabaseError as e:
            raise TimelineBackendError(f"writing {key!r} failed: {e}", key=key) from e
        if not updated:
            raise WriteConflict(f"{key!r} changed since it was read", key=key)

    def delete(self, key, token):
        try:
            self._model.filter(key=key).delete()
        except DatabaseError as e:
            raise TimelineBackendError(f"deleting {key!r} failed: {e}", key=key) from e

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
