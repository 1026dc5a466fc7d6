"""The embedded default store: one row per timeline key in the Django database."""

from django.db import models


class StoredTimeline(models.Model):
    """A timeline's encoded value, with a version for optimistic concurrency."""

    key = models.CharField(max_length=255, primary_key=True)
    value = models.BinaryField()
    version = models.BigIntegerField(default=1)

    class Meta:
        db_table = "django_timak_timeline"
        verbose_name = "stored timeline"

    def __str__(self):
        return self.key


class TimelineDelta(models.Model):
    """A small value appended to a timeline key without reading it.

    Read back beside the key's ``StoredTimeline`` value as a sibling, and deleted by
    the write-back that merged it; appends never touch the base row, so they never
    conflict with a read-merge-write.
    """

    id = models.BigAutoField(primary_key=True)
    key = models.CharField(max_length=255, db_index=True)
    value = models.BinaryField()

    class Meta:
        db_table = "django_timak_delta"
        verbose_name = "timeline delta"

    def __str__(self):
        return f"delta {self.pk} of {self.key}"


class PendingOperation(models.Model):
    """One row change recorded by the outbox for one timeline alias, until a drain applies it.

    Written in the same transaction as the save that implies it, so a commit
    guarantees it and a rollback drops it. It holds the change, not its keys (see
    ``row_changes``): one row per alias whatever the row's audience; the drain
    computes the keys.
    """

    timeline = models.CharField(max_length=100)
    #: ``{"model", "pk", "action", "clock", "previous", "keys"}``: a ``RowChange`` without its timeline.
    change = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)
    due = models.DateTimeField(db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    #: The drain that holds the row until ``due``; a killed drain's rows come back then.
    claim = models.CharField(max_length=32, blank=True)

    class Meta:
        db_table = "django_timak_outbox"
        ordering = ["pk"]
        verbose_name = "pending timeline change"

    def __str__(self):
        return f"{self.change.get('action')} {self.change.get('model')}:{self.change.get('pk')} on {self.timeline}"
