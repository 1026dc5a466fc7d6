"""Pytest fixtures giving tests a Riak to talk to.

Every Riak test runs against the loopback test server, or against a real Riak KV when
TIMAK_TEST_RIAK_URL is set (it must have a bucket type `timak` with allow_mult=true), so the
test server's fidelity is itself checked whenever a real node is at hand. The cluster and
TLS fixtures need the test server (three listeners over one store; certificates made for
the session) and skip when a real Riak is configured.
"""

import os
import uuid

import pytest

from django_timak import Timeline
from django_timak.backends.memory import MemoryBackend
from django_timak.testing.riak import RiakTestCluster, RiakTestServer

RIAK_URL_ENV = "TIMAK_TEST_RIAK_URL"
#: Riak security's user in the TLS tests; no test output may ever show the password.
RIAK_USER = "timak"
RIAK_PASSWORD = "pw-9f3c1e7a-never-shown"


def value_holding(*ids):
    """Return the stored bytes of a timeline holding ``ids``, as another writer would make them."""
    memory = MemoryBackend()
    Timeline(memory, max_items=200).add_many("k", [(i, i, None) for i in ids])
    return memory.read("k").values[0]


@pytest.fixture(scope="session")
def riak_server():
    """The session's test server, or None when a real Riak is configured."""
    if os.environ.get(RIAK_URL_ENV):
        yield None
        return
    with RiakTestServer() as server:
        yield server


@pytest.fixture(scope="session")
def riak_url(riak_server):
    """Base URL of the Riak under test, without a trailing slash."""
    return riak_server.url if riak_server else os.environ[RIAK_URL_ENV].rstrip("/")


@pytest.fixture
def riak_fault_server(riak_server):
    """The test server, up and with no faults before and after the test."""
    if riak_server is None:
        pytest.skip(f"needs the Riak test server's fault knobs ({RIAK_URL_ENV} is set)")
    riak_server.up()
    riak_server.reset_faults()
    yield riak_server
    riak_server.up()
    riak_server.reset_faults()


@pytest.fixture
def riak_bucket():
    """A bucket name no other test or run uses."""
    return f"test-{uuid.uuid4().hex}"


def _needs_test_server():
    if os.environ.get(RIAK_URL_ENV):
        pytest.skip(f"needs the Riak test server ({RIAK_URL_ENV} is set)")


@pytest.fixture(scope="session")
def riak_certificates():
    """A CA and certificates made for this test session (loopback server, clients on demand)."""
    from django_timak.testing.certificates import TestCertificates

    certificates = TestCertificates()
    yield certificates
    certificates.close()


@pytest.fixture
def riak_cluster():
    """Three test nodes over one shared store, all up, for failover tests."""
    _needs_test_server()
    with RiakTestCluster(3) as cluster:
        yield cluster


@pytest.fixture
def riak_secure_server(riak_certificates):
    """A test node serving TLS with Riak security on: user ``timak``, password RIAK_PASSWORD."""
    _needs_test_server()
    with RiakTestServer(tls=riak_certificates, users={RIAK_USER: RIAK_PASSWORD}) as server:
        yield server
