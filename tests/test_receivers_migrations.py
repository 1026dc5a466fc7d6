"""Migrations' historical models get no receivers: only the installed models are wired."""

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.models.signals import post_init, post_save

from django_timak.receivers import wire
from tests.models import Post


@pytest.mark.django_db
def test_a_historical_model_from_the_migrations_is_not_wired():
    historical = MigrationLoader(connection).project_state().apps.get_model("tests", "Post")
    assert historical.__module__ == "__fake__" and historical is not Post
    wire(historical)
    assert not post_init.has_listeners(historical) and not post_save.has_listeners(historical)
    assert post_init.has_listeners(Post) and post_save.has_listeners(Post)
