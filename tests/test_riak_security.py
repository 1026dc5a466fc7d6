"""RiakBackend with TLS and Riak security, end to end against the test server serving https.

The password must never show: not in an error, a log line, a check message, a repr, nor
in the output of these tests (the last test runs them again and reads everything).
"""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from django_timak.backends.riak import RiakBackend
from django_timak.exceptions import RiakAccessDenied, RiakTLSError, TimelineBackendError
from django_timak.testing.riak import RiakTestServer
from tests.riak_fixtures import RIAK_PASSWORD, RIAK_USER

GRANT = (
    "riak admin security grant riak_kv.get,riak_kv.put,riak_kv.delete,riak_core.get_bucket,"
    "riak_core.set_bucket on timak {bucket} to timak"
)
insecure_requests_allowed = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


def secure_backend(server, bucket, **options):
    options = {"ca_file": server.ca_file, "username": RIAK_USER, "password": RIAK_PASSWORD, **options}
    return RiakBackend(server.url, bucket=bucket, retries=0, **options)


def check_summary(backend):
    return [(m.id, m.msg, m.hint) for m in backend.check()]


def where(backend):
    return f"Riak bucket {backend.bucket!r} of type {backend.bucket_type!r} at {backend.url}"


# Working set-ups


def test_tls_with_credentials_reads_and_writes(riak_secure_server, riak_bucket):
    backend = secure_backend(riak_secure_server, riak_bucket)
    assert riak_secure_server.url.startswith("https://")
    backend.write("k", b"over tls", None)
    assert backend.read("k").values == [b"over tls"]
    assert backend.ping() is True
    assert backend.check() == []


def test_a_client_certificate_is_shown_when_the_node_asks(riak_certificates, riak_bucket):
    cert, key = riak_certificates.client_certificate()
    with RiakTestServer(tls=riak_certificates, require_client_cert=True) as server:
        without = RiakBackend(server.url, bucket=riak_bucket, ca_file=server.ca_file, retries=0)
        with pytest.raises(RiakTLSError):
            without.read("k")
        backend = RiakBackend(server.url, bucket=riak_bucket, ca_file=server.ca_file, client_cert=cert, client_key=key)
        backend.write("k", b"x", None)
        assert backend.read("k").values == [b"x"]


@insecure_requests_allowed
def test_verify_false_works_without_a_ca_and_warns_in_check(riak_secure_server, riak_bucket):
    backend = secure_backend(riak_secure_server, riak_bucket, ca_file=None, verify=False)
    backend.write("k", b"x", None)
    assert check_summary(backend) == [
        (
            "django_timak.W103",
            f"{where(backend)}: VERIFY is false, so the nodes' certificates are not checked and anyone on "
            "the path can read and change timelines (and the password).",
            "Set CA_FILE to the CA that signed the nodes' certificates and remove VERIFY.",
        )
    ]


# What goes wrong, and what the user is told


def test_an_untrusted_certificate_is_a_tls_error_and_e106(riak_secure_server, riak_bucket):
    backend = secure_backend(riak_secure_server, riak_bucket, ca_file=None)
    with pytest.raises(RiakTLSError, match="CERTIFICATE_VERIFY_FAILED.*set CA_FILE to the CA"):
        backend.read("k")
    [error] = backend.check()
    assert error.id == "django_timak.E106"
    assert error.msg.startswith(f"{where(backend)}: TLS with Riak at {backend.url} failed on GET /ping")


def test_plain_http_to_a_tls_node_says_to_use_https(riak_secure_server, riak_bucket):
    plain_url = riak_secure_server.url.replace("https://", "http://")
    backend = RiakBackend(plain_url, bucket=riak_bucket, retries=0)
    with pytest.raises(TimelineBackendError, match=r"a node that serves TLS closes plain HTTP connections like this: if it does, use an https:// URL"):
        backend.read("k")


def test_a_wrong_password_is_access_denied_naming_the_user(riak_secure_server, riak_bucket):
    backend = secure_backend(riak_secure_server, riak_bucket, password="not-the-password")
    with pytest.raises(RiakAccessDenied) as caught:
        backend.read("k")
    assert caught.value.status == 401
    assert caught.value.message == (
        f"Riak at {backend.url} refused the credentials of user 'timak' (401): check USERNAME and PASSWORD, "
        "and that the user may log in with a password from this host (on a Riak node: riak admin security "
        "add-source timak <this host's address>/32 password)"
    )
    assert [(m.id, m.hint) for m in backend.check()] == [
        (
            "django_timak.E105",
            "Check USERNAME and PASSWORD; then grant what timelines need, on a Riak node: "
            + GRANT.format(bucket=riak_bucket),
        ),
    ]


def test_missing_grants_name_the_grant_command(riak_certificates, riak_bucket):
    with RiakTestServer(tls=riak_certificates, users={RIAK_USER: RIAK_PASSWORD}, grants={"riak_kv.get"}) as server:
        backend = secure_backend(server, riak_bucket)
        assert backend.read("k").values == []
        with pytest.raises(RiakAccessDenied) as caught:
            backend.write("k", b"x", None)
        [error] = backend.check()
    assert (error.id, error.hint) == ("django_timak.E105", "On a Riak node run: " + GRANT.format(bucket=riak_bucket))
    assert caught.value.status == 403
    assert caught.value.message == (
        f"Riak at {backend.url} denied user 'timak' riak_kv.put on bucket {riak_bucket!r} of type 'timak' (403): "
        f"on a Riak node run: {GRANT.format(bucket=riak_bucket)}"
    )


def test_no_credentials_for_a_secure_node_says_to_set_them(riak_secure_server, riak_bucket):
    backend = RiakBackend(riak_secure_server.url, bucket=riak_bucket, ca_file=riak_secure_server.ca_file)
    with pytest.raises(RiakAccessDenied, match=r"asks for credentials \(401\): set USERNAME and PASSWORD"):
        backend.write("k", b"x", None)


def test_security_on_a_plain_http_listener_says_to_use_https(riak_bucket):
    with RiakTestServer(users={RIAK_USER: RIAK_PASSWORD}) as server:
        backend = RiakBackend(server.url, bucket=riak_bucket)
        with pytest.raises(RiakAccessDenied, match=r"refuses plain HTTP \(426\): use the node's https:// listener"):
            backend.read("k")
        [error] = backend.check()
    assert (error.id, error.hint) == ("django_timak.E105", "Use the nodes' https:// listeners in URL or URLS, with CA_FILE.")


def test_credentials_over_plain_http_are_never_sent_and_e104(riak_fault_server, riak_bucket):
    backend = RiakBackend(riak_fault_server.url, bucket=riak_bucket, username=RIAK_USER, password=RIAK_PASSWORD)
    before = riak_fault_server.requests
    with pytest.raises(RiakAccessDenied, match="sent only over TLS, so nothing was sent"):
        backend.write("k", b"x", None)
    assert check_summary(backend) == [
        (
            "django_timak.E104",
            f"{where(backend)}: USERNAME and PASSWORD are set but the nodes are plain http://, so the password "
            "would cross the network unencrypted; nothing is sent.",
            "Use the nodes' https:// listeners in URL or URLS (Riak security requires TLS), with CA_FILE.",
        )
    ]
    assert riak_fault_server.requests == before


@pytest.mark.parametrize(
    "options, message",
    [
        ({"username": RIAK_USER}, "password must be a non-empty string"),
        ({"password": RIAK_PASSWORD}, "username must be a non-empty string"),
        ({"client_key": "client.key"}, "client_key needs client_cert"),
        ({"verify": "no"}, "verify must be True or False"),
        ({"ca_file": ""}, "ca_file must be the path of a PEM file"),
        ({"url": None, "urls": ["http://a:8098", "https://b:8098"]}, "mixes http:// and https://"),
        ({"url": f"https://{RIAK_USER}:{RIAK_PASSWORD}@riak:8098"}, "cannot carry credentials"),
        ({"url": f"mailto:{RIAK_USER}:{RIAK_PASSWORD}@riak"}, "not 'a URL with credentials'"),
    ],
)
def test_invalid_security_options_are_refused_without_showing_the_password(options, message):
    with pytest.raises(ValueError, match=message) as caught:
        RiakBackend(**{"url": "https://riak:8098", **options})
    assert RIAK_PASSWORD not in str(caught.value)


@pytest.mark.fault
def test_the_password_shows_in_no_error_log_line_check_or_repr(riak_secure_server, riak_bucket, caplog):
    shown = []
    with caplog.at_level(logging.DEBUG):
        for options in ({}, {"password": RIAK_PASSWORD + "-wrong"}, {"ca_file": None}):
            backend = secure_backend(riak_secure_server, riak_bucket, **options)
            shown += [repr(backend), str(backend.__dict__), str(backend._transport.__dict__)]
            shown += [f"{m.msg} {m.hint}" for m in backend.check()]
            try:
                backend.write("k", b"x", None)
            except TimelineBackendError as e:
                shown += [str(e), repr(e), str(e.__cause__)]
        riak_secure_server.down()
        backend = secure_backend(riak_secure_server, riak_bucket)
        try:
            backend.read("k")
        except TimelineBackendError as e:
            shown += [str(e), str(e.__cause__)]
        riak_secure_server.up()
    shown += [record.getMessage() for record in caplog.records]
    assert len(shown) > 10
    assert not [text for text in shown if RIAK_PASSWORD in text]


@pytest.mark.subprocess
def test_no_output_of_these_tests_shows_the_password(tmp_path):
    """Run this module again with every log line shown, and read all it printed."""
    if os.environ.get("TIMAK_TEST_SECURITY_RERUN"):
        pytest.skip("the re-run does not re-run itself")
    env = {**os.environ, "TIMAK_TEST_SECURITY_RERUN": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", __file__, "-rA", "-vv", "--log-level=DEBUG", "-o", "log_cli=true",
         "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "rerun")],
        capture_output=True, text=True, env=env, cwd=Path(__file__).parents[1],
    )
    assert " passed" in run.stdout and run.returncode == 0, run.stdout[-3000:]
    assert RIAK_PASSWORD not in run.stdout + run.stderr
