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

    def close(self):
        """Django closes its own connections; nothing to release here."""
