"""Fresh databases for the run, created like the test runner does and dropped after."""

from contextlib import contextmanager

from django.db import connections


@contextmanager
def fresh_databases():
    """Create and migrate every configured database; drop them all afterwards."""
    created = []
    try:
        for alias in connections:
            connection = connections[alias]
            old_name = connection.settings_dict["NAME"]
            connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
            created.append((connection, old_name))
        yield [alias for alias in connections]
    finally:
        for connection, old_name in created:
            connection.creation.destroy_test_db(old_name, verbosity=0)


class TimelinesOnlyElsewhere:
    """Keep the models on the default database; other databases get the timeline table only.

    The fan-out case needs no more there, and migrating less keeps a run short.
    """

    def allow_migrate(self, db, app_label, **hints):
        return db == "default" or app_label == "django_timak"
