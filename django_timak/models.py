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
