"""The stores the layout and input tests run on: memory, memory with siblings, each database, Riak."""

import pytest

from conftest import DATABASE_ALIASES
from django_timak.backends.db import DatabaseBackend
from django_timak.backends.memory import MemoryBackend
from django_timak.backends.riak import RiakBackend

DATABASE = pytest.mark.django_db(transaction=True, databases=DATABASE_ALIASES)
STORES = ["memory", "siblings", *(pytest.param(f"database:{a}", marks=DATABASE) for a in DATABASE_ALIASES), "riak"]


@pytest.fixture(params=STORES)
def store(request):
    """Return a fresh store of the kind the parameter names."""
    if request.param == "riak":
        return RiakBackend(request.getfixturevalue("riak_url"), bucket=request.getfixturevalue("riak_bucket"))
    if request.param.startswith("database:"):
        return DatabaseBackend(using=request.param.split(":", 1)[1])
    return MemoryBackend(allow_mult=request.param == "siblings")
