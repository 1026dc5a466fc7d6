"""The Riak test server answers as a real Riak KV does (see riak/transcripts.md).

One test per transcript section, over raw HTTP. With TIMAK_TEST_RIAK_URL set the same tests
run against a real node; those needing the test server's knobs then skip.
"""

import concurrent.futures
import json
import socket
import subprocess
import sys
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import quote

import pytest
import urllib3

from django_timak.testing.riak import RiakTestServer

MULTIPART_OK = "multipart/mixed, */*;q=0.9"


class Riak:
    """Raw HTTP to one bucket of the `timak` type."""

    def __init__(self, url, bucket):
        self.url, self.bucket = url, bucket
        self.http = urllib3.PoolManager(retries=False, timeout=10)

    def key_path(self, key, btype="timak", bucket=None):
        bucket = quote(bucket or self.bucket, safe="")
        return f"/types/{btype}/buckets/{bucket}/keys/{quote(key, safe='')}"

    def request(self, method, path, body=None, headers=None):
        return self.http.request(method, self.url + path, body=body, headers=headers or {})

    def get(self, key, accept=None, vclock=None, **kwargs):
        headers = {"Accept": accept} if accept else {}
        if vclock:
            headers["X-Riak-Vclock"] = vclock
        return self.request("GET", self.key_path(key, **kwargs), headers=headers)

    def put(self, key, body, content_type="text/plain", vclock=None, query="", **kwargs):
        headers = {"Content-Type": content_type} if content_type else {}
        if vclock:
            headers["X-Riak-Vclock"] = vclock
        return self.request("PUT", self.key_path(key, **kwargs) + query, body, headers)

    def delete(self, key, vclock=None):
        headers = {"X-Riak-Vclock": vclock} if vclock else {}
        return self.request("DELETE", self.key_path(key), headers=headers)


def parts(response):
    """The (headers, body) of each part of a multipart/mixed answer."""
    content_type = response.headers["Content-Type"]
    assert content_type.startswith("multipart/mixed; boundary=")
    boundary = content_type.split("boundary=")[1].encode()
    chunks = response.data.split(b"\r\n--" + boundary)
    assert chunks[0] == b"" and chunks[-1] == b"--\r\n"
    result = []
    for chunk in chunks[1:-1]:
        head, _, body = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if line)
        result.append((headers, body))
    return result


def sibling_values(riak, key):
    response = riak.get(key, accept=MULTIPART_OK)
    if response.status == 200:
        return [response.data]
    assert response.status == 300
    return sorted(body for _, body in parts(response))


def assert_vtag_list(response, count):
    lines = response.data.decode().split("\n")
    assert lines[0] == "Siblings:" and lines[-1] == ""
    assert len(lines[1:-1]) == count and all(line.isalnum() for line in lines[1:-1])


@pytest.fixture
def riak(riak_url, riak_bucket):
    return Riak(riak_url, riak_bucket)


@pytest.fixture
def two_siblings(riak):
    assert riak.put("s", b"one").status == 204
    assert riak.put("s", b"two").status == 204
    return riak


# Basics


def test_ping(riak):
    response = riak.request("GET", "/ping")
    assert (response.status, response.data) == (200, b"OK")
    assert response.headers["Content-Type"] == "text/html"


def test_fetch_a_key_that_never_existed(riak):
    response = riak.get("missing")
    assert (response.status, response.reason, response.data) == (
        404, "Object Not Found", b"not found\n")
    assert response.headers["Content-Type"] == "text/plain"
    assert "X-Riak-Vclock" not in response.headers


def test_unknown_bucket_type(riak):
    response = riak.get("k", btype="nosuchtype")
    assert (response.status, response.data) == (404, b"Unknown bucket type: nosuchtype")
    assert response.headers["Content-Type"] == "text/plain"


def test_store_then_fetch_one_value(riak, riak_bucket):
    stored = riak.put("k1", b'{"v":1}', "application/json")
    assert (stored.status, stored.data) == (204, b"")
    assert stored.headers["Content-Type"] == "application/json"
    response = riak.get("k1", accept=MULTIPART_OK)
    assert (response.status, response.data) == (200, b'{"v":1}')
    headers = response.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["Content-Length"] == "7"
    assert headers["Link"] == f'</buckets/{riak_bucket}>; rel="up"'
    assert headers["ETag"].startswith('"') and headers["ETag"].endswith('"')
    assert parsedate_to_datetime(headers["Last-Modified"]).tzinfo is not None
    assert headers["X-Riak-Vclock"]
    assert "MochiWeb" in headers["Server"] and headers["Date"]


def test_store_with_the_vclock_read_and_returnbody(riak):
    riak.put("k1", b'{"v":1}', "application/json")
    read = riak.get("k1")
    response = riak.put("k1", b'{"v":2}', "application/json",
                        vclock=read.headers["X-Riak-Vclock"], query="?returnbody=true")
    assert (response.status, response.data) == (200, b'{"v":2}')
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Riak-Vclock"] != read.headers["X-Riak-Vclock"]
    assert response.headers["ETag"] != read.headers["ETag"]
    assert sibling_values(riak, "k1") == [b'{"v":2}']


def test_metadata_headers_are_kept(riak):
    riak.request("PUT", riak.key_path("m"), b"x",
                 {"Content-Type": "text/plain; charset=utf-8", "X-Riak-Meta-Origin": "test"})
    response = riak.get("m")
    assert response.headers["X-Riak-Meta-Origin"] == "test"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_legacy_paths_are_the_default_type(riak, riak_bucket):
    path = f"/buckets/{riak_bucket}/keys/k"
    assert riak.request("PUT", path, b"x", {"Content-Type": "text/plain"}).status == 204
    assert riak.put("k", b"y", btype="default").status == 204
    response = riak.request("GET", path)
    assert (response.status, response.data) == (200, b"y")  # allow_mult is off there


# Siblings


def test_fetch_siblings_without_multipart_lists_vtags(two_siblings, riak_bucket):
    response = two_siblings.get("s")
    assert response.status == 300 and response.reason == "Multiple Choices"
    assert response.headers["Content-Type"] == "text/plain"
    assert_vtag_list(response, 2)
    assert response.headers["X-Riak-Vclock"] and response.headers["ETag"]
    assert "Link" not in response.headers


def test_fetch_siblings_as_multipart(two_siblings, riak_bucket):
    response = two_siblings.get("s", accept="multipart/mixed")
    assert response.status == 300
    assert int(response.headers["Content-Length"]) == len(response.data)
    siblings = parts(response)
    assert sorted(body for _, body in siblings) == [b"one", b"two"]
    vtags = set(two_siblings.get("s").data.decode().split("\n")[1:-1])
    for headers, _ in siblings:
        assert headers["Content-Type"] == "text/plain"
        assert headers["Link"] == f'</buckets/{riak_bucket}>; rel="up"'
        assert headers["Etag"] in vtags
        assert parsedate_to_datetime(headers["Last-Modified"])
        assert "X-Riak-Deleted" not in headers


def test_third_blind_write_with_returnbody_lists_three(two_siblings):
    response = two_siblings.put("s", b"one+two", query="?returnbody=true")
    assert response.status == 300
    assert response.headers["Content-Type"] == "text/plain"
    assert_vtag_list(response, 3)


def test_write_with_an_older_vclock_replaces_only_what_it_saw(two_siblings):
    riak = two_siblings
    seen = riak.get("s").headers["X-Riak-Vclock"]
    riak.put("s", b"one+two")
    assert riak.put("s", b"merged", vclock=seen).status == 204
    assert sibling_values(riak, "s") == [b"merged", b"one+two"]


def test_write_with_the_latest_vclock_resolves_to_one(two_siblings):
    riak = two_siblings
    latest = riak.get("s").headers["X-Riak-Vclock"]
    assert riak.put("s", b"all", vclock=latest).status == 204
    only_multipart = riak.get("s", accept="multipart/mixed")
    assert (only_multipart.status, only_multipart.reason) == (406, "Not Acceptable")
    assert only_multipart.headers["Content-Type"] == "text/html"
    assert b"<h1>Not Acceptable</h1>" in only_multipart.data
    response = riak.get("s", accept=MULTIPART_OK)
    assert (response.status, response.data) == (200, b"all")


# Deletes and tombstones


def test_delete_with_vclock_leaves_a_tombstone(riak):
    riak.put("s", b"all")
    vclock = riak.get("s").headers["X-Riak-Vclock"]
    deleted = riak.delete("s", vclock)
    assert deleted.status == 204 and deleted.headers["Content-Type"] == "text/html"
    response = riak.get("s")
    assert (response.status, response.data) == (404, b"not found\n")
    assert response.headers["X-Riak-Deleted"] == "true"
    assert response.headers["X-Riak-Vclock"] not in ("", vclock)


def test_delete_without_vclock(riak):
    riak.put("s", b"one")
    riak.put("s", b"two")
    assert riak.delete("s").status == 204
    assert riak.get("s").status == 404


def test_delete_a_key_that_never_existed(riak):
    response = riak.delete("never")
    assert (response.status, response.data) == (404, b"not found\n")
    assert response.headers["Content-Type"] == "text/plain"


def test_concurrent_write_with_the_pre_delete_vclock_meets_the_tombstone(riak):
    riak.put("d", b"x")
    vclock = riak.get("d").headers["X-Riak-Vclock"]
    assert riak.delete("d", vclock).status == 204
    assert riak.put("d", b"y", vclock=vclock).status == 204
    response = riak.get("d", accept="multipart/mixed")
    assert response.status == 300
    (tomb_headers, tomb_body), (headers, body) = sorted(parts(response), key=lambda p: p[1])
    assert (tomb_body, tomb_headers["X-Riak-Deleted"]) == (b"", "true")
    assert tomb_headers["Content-Type"] == "application/octet-stream"
    assert (body, headers["Content-Type"]) == (b"y", "text/plain")
    assert "X-Riak-Deleted" not in headers


def test_write_with_the_tombstone_vclock_replaces_it(riak):
    riak.put("t", b"x")
    riak.delete("t", riak.get("t").headers["X-Riak-Vclock"])
    tombstone = riak.get("t").headers["X-Riak-Vclock"]
    assert riak.put("t", b"again", vclock=tombstone).status == 204
    response = riak.get("t", accept=MULTIPART_OK)
    assert (response.status, response.data) == (200, b"again")


# Keys that look like paths


@pytest.mark.parametrize("key", ["a/b", "a?b", "a b", "ключ", "a%b", "a+b", "#&=;"])
def test_encoded_keys_round_trip(riak, key):
    assert riak.put(key, key.encode()).status == 204
    response = riak.get(key)
    assert (response.status, response.data) == (200, key.encode())


def test_list_keys_shows_decoded_names(riak, riak_bucket):
    for key in ["a/b", "a?b", "a b", "ключ", "a%b"]:
        riak.put(key, b"x")
    response = riak.request("GET", f"/types/timak/buckets/{riak_bucket}/keys?keys=true")
    assert response.headers["Content-Type"] == "application/json"
    assert sorted(json.loads(response.data)["keys"]) == sorted(
        ["a/b", "a?b", "a b", "ключ", "a%b"])


def test_a_plus_in_a_path_is_a_space(riak, riak_bucket):
    riak.request("PUT", f"/types/timak/buckets/{riak_bucket}/keys/a+b", b"x",
                 {"Content-Type": "text/plain"})
    assert riak.get("a b").data == b"x"


def test_an_unencoded_slash_is_a_link_walk(riak, riak_bucket):
    response = riak.request("GET", f"/types/timak/buckets/{riak_bucket}/keys/a/b")
    assert response.status == 400
    assert response.data.startswith(b"Invalid link walk query submitted.")
    assert len(response.data) == 121


# Bucket properties


def test_typed_bucket_properties(riak, riak_bucket):
    response = riak.request("GET", f"/types/timak/buckets/{riak_bucket}/props")
    assert response.headers["Content-Type"] == "application/json"
    props = json.loads(response.data)["props"]
    assert props["name"] == riak_bucket
    assert (props["allow_mult"], props["dvv_enabled"], props["last_write_wins"]) == (
        True, True, False)
    assert {"n_val", "r", "w", "pr", "pw", "dw", "rw", "notfound_ok", "basic_quorum",
            "young_vclock", "old_vclock", "small_vclock", "big_vclock"} <= props.keys()


def test_allow_mult_off_makes_the_last_write_win(riak, riak_bucket):
    path = f"/types/timak/buckets/{riak_bucket}/props"
    body = json.dumps({"props": {"allow_mult": False}})
    stored = riak.request("PUT", path, body, {"Content-Type": "application/json"})
    assert stored.status == 204
    assert json.loads(riak.request("GET", path).data)["props"]["allow_mult"] is False
    riak.put("lww", b"one")
    riak.put("lww", b"two")
    response = riak.get("lww", accept=MULTIPART_OK)
    assert (response.status, response.data) == (200, b"two")


def test_default_type_properties(riak, riak_bucket):
    response = riak.request("GET", f"/types/default/buckets/{riak_bucket}/props")
    props = json.loads(response.data)["props"]
    assert (props["allow_mult"], props["dvv_enabled"], props["n_val"]) == (False, False, 3)


# Quorum parameters and errors


def test_r_larger_than_n_val(riak):
    riak.put("k1", b"x")
    response = riak.request("GET", riak.key_path("k1") + "?r=5")
    assert (response.status, response.data) == (
        400, b"Specified w/dw/pw/node_confirms values invalid for bucket n value of 3\n")
    assert "Content-Type" not in response.headers


def test_w_larger_than_n_val_stores_nothing(riak):
    response = riak.put("k1", b"x", query="?w=5")
    assert (response.status, response.data) == (
        400, b"Specified w/dw/pw/node_confirms values invalid for bucket n value of 3\n")
    assert response.headers["Content-Type"] == "text/plain"
    assert riak.get("k1").status == 404


def test_malformed_w(riak):
    response = riak.put("k1", b"x", query="?w=bogus")
    assert (response.status, response.data) == (400, (
        b"w query parameter must be an integer or one of the following words: "
        b"'one', 'quorum' or 'all'\n"))


@pytest.mark.parametrize("query", ["?w=one&dw=quorum&pw=0", "?w=all&r=default", "?w=3"])
def test_quorum_words_and_small_integers_are_accepted(riak, query):
    assert riak.put("k1", b"x", query=query).status == 204


def test_store_without_a_content_type(riak):
    response = riak.put("nocontenttype", b"x", content_type=None)
    assert (response.status, response.data) == (400, b"Missing Content-Type request header")
    assert response.headers["Content-Type"] == "text/plain"


def test_a_garbage_vclock_is_ignored_on_fetch(riak):
    riak.put("k1", b"x")
    assert riak.get("k1", vclock="garbage").status == 200


def test_a_garbage_vclock_on_store_is_a_server_error(riak):
    riak.put("k1", b"x")
    response = riak.put("k1", b"y", vclock="bm90IGEgdmNsb2Nr")
    assert response.status == 500
    assert response.headers["Content-Type"] == "text/html"
    assert sibling_values(riak, "k1") == [b"x"]


# The sibling limit


def test_the_sibling_limit(riak):
    for number in range(1, 101):
        assert riak.put("many", str(number).encode()).status == 204
    response = riak.put("many", b"101")
    assert (response.status, response.data) == (500, b"Error:\n{too_many_siblings,101}\n")
    assert response.headers["Content-Type"] == "text/plain"
    fetched = riak.get("many", accept=MULTIPART_OK)
    assert fetched.status == 300 and len(parts(fetched)) == 100


# HTTP behaviour clients rely on


def test_answers_keep_the_connection_alive(riak_url, riak_bucket):
    pool = urllib3.connection_from_url(riak_url, maxsize=1, block=True)
    path = f"/types/timak/buckets/{riak_bucket}/keys/k"
    for _ in range(2):
        pool.request("PUT", path, body=b"x", headers={"Content-Type": "text/plain"})
    for accept in ("*/*", "multipart/mixed", "text/plain"):
        pool.request("GET", path, headers={"Accept": accept})
    pool.request("GET", path + "-missing")
    pool.request("DELETE", path)
    assert pool.num_connections == 1 and pool.num_requests == 7


# Test server internals and fault knobs (skipped against a real Riak)


@pytest.mark.fault
def test_sibling_count_and_request_counter(riak_fault_server, riak_url, riak_bucket):
    riak = Riak(riak_url, riak_bucket)
    before = riak_fault_server.requests
    riak.put("k", b"1")
    riak.put("k", b"2")
    assert riak_fault_server.sibling_count("timak", riak_bucket, "k") == 2
    assert riak_fault_server.sibling_count("timak", riak_bucket, "none") == 0
    assert riak_fault_server.requests == before + 2


@pytest.mark.fault
def test_tombstones_are_reaped(riak_fault_server, riak_url, riak_bucket):
    riak_fault_server.reap_after = 0.1
    riak = Riak(riak_url, riak_bucket)
    riak.put("k", b"x")
    riak.delete("k")
    assert riak.get("k").headers["X-Riak-Deleted"] == "true"
    time.sleep(0.15)
    response = riak.get("k")
    assert response.status == 404 and "X-Riak-Vclock" not in response.headers


@pytest.mark.fault
def test_a_stale_vclock_does_not_cover_values_written_after_a_reap(
        riak_fault_server, riak_url, riak_bucket):
    riak_fault_server.reap_after = 0
    riak = Riak(riak_url, riak_bucket)
    riak.put("k", b"old")
    stale = riak.get("k").headers["X-Riak-Vclock"]
    riak.delete("k", stale)
    riak.put("k", b"new")
    riak.put("k", b"late", vclock=stale)
    assert sibling_values(riak, "k") == [b"late", b"new"]


@pytest.mark.fault
def test_max_siblings_knob(riak_fault_server, riak_url, riak_bucket):
    riak_fault_server.max_siblings = 2
    riak = Riak(riak_url, riak_bucket)
    riak.put("k", b"1")
    riak.put("k", b"2")
    assert riak.put("k", b"3").data == b"Error:\n{too_many_siblings,3}\n"


@pytest.mark.fault
def test_fail_every_answers_503(riak_fault_server, riak_url):
    riak = Riak(riak_url, "b")
    riak_fault_server.fail_every = 2
    first = riak_fault_server.requests + 1
    statuses = [riak.request("GET", "/ping").status for _ in range(4)]
    assert statuses == [503 if n % 2 == 0 else 200 for n in range(first, first + 4)]


@pytest.mark.fault
def test_fail_next_and_drop_next(riak_fault_server, riak_url, riak_bucket):
    riak = Riak(riak_url, riak_bucket)
    riak_fault_server.fail_next(1)
    assert riak.put("k", b"x").status == 503
    assert riak.get("k").status == 404  # the failed write was not applied
    riak_fault_server.drop_next(1)
    with pytest.raises(urllib3.exceptions.ProtocolError):
        riak.put("k", b"x")
    assert riak.get("k").status == 404
    assert riak.request("GET", "/ping").status == 200


@pytest.mark.fault
def test_drop_every(riak_fault_server, riak_url):
    http = urllib3.PoolManager(retries=False)
    riak_fault_server.drop_every = 3
    outcomes = []
    for _ in range(6):
        try:
            outcomes.append(http.request("GET", riak_url + "/ping").status)
        except urllib3.exceptions.ProtocolError:
            outcomes.append("dropped")
    assert outcomes.count("dropped") == 2 and outcomes.count(200) == 4


@pytest.mark.fault
def test_stall_outlasts_a_client_timeout(riak_fault_server, riak_url):
    riak_fault_server.stall_seconds = 0.5
    riak_fault_server.stall_next(1)
    http = urllib3.PoolManager(retries=False, timeout=0.1)
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        http.request("GET", riak_url + "/ping")
    assert http.request("GET", riak_url + "/ping").status == 200


@pytest.mark.fault
def test_latency_is_served_concurrently(riak_fault_server, riak_url):
    riak_fault_server.latency = 0.2
    http = urllib3.PoolManager(maxsize=20, retries=False)
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(lambda _: http.request("GET", riak_url + "/ping").status,
                                 range(20)))
    # One at a time, no request would overlap another; 20 threads sleeping 0.2 s each overlap.
    assert statuses == [200] * 20 and riak_fault_server.most_in_flight > 1


@pytest.mark.fault
def test_down_and_up_on_the_same_port(riak_fault_server, riak_url, riak_bucket):
    riak = Riak(riak_url, riak_bucket)
    riak.put("k", b"x")
    riak_fault_server.down()
    with pytest.raises(urllib3.exceptions.HTTPError):
        riak.get("k")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((riak_fault_server.host, riak_fault_server.port), 1)
    riak_fault_server.up()
    assert riak_fault_server.url == riak_url
    assert riak.get("k").data == b"x"


@pytest.mark.fault
def test_bucket_types_can_be_added(riak_fault_server, riak_url, riak_bucket):
    riak_fault_server.add_bucket_type("single", allow_mult=False)
    riak = Riak(riak_url, riak_bucket)
    riak.put("k", b"1", btype="single")
    riak.put("k", b"2", btype="single")
    assert riak.get("k", btype="single").data == b"2"


def test_reset_forgets_everything(riak_bucket):
    with RiakTestServer() as server:
        riak = Riak(server.url, riak_bucket)
        server.add_bucket_type("extra")
        riak.put("k", b"x")
        server.latency = 1.0
        server.reset()
        assert (server.latency, server.requests) == (0.0, 0)
        assert riak.get("k").status == 404
        assert riak.get("k", btype="extra").status == 404
        assert riak.get("k", btype="extra").data.startswith(b"Unknown bucket type")


@pytest.mark.subprocess
def test_runs_as_a_module():
    process = subprocess.Popen([sys.executable, "-m", "django_timak.testing.riak", "--port", "0"],
                               stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])
    try:
        words = process.stdout.readline().split()
        assert words[:4] == ["Riak", "test", "server", "on"]
        assert urllib3.request("GET", f"{words[4]}/ping").data == b"OK"
    finally:
        process.terminate()
        process.wait(5)


@pytest.mark.subprocess
def test_runs_as_a_module_serving_tls():
    process = subprocess.Popen([sys.executable, "-m", "django_timak.testing.riak", "--port", "0", "--tls"],
                               stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])
    try:
        url = process.stdout.readline().split()[4]
        ca_file = process.stdout.readline().removeprefix("CA_FILE: ").strip()
        assert url.startswith("https://127.0.0.1:")
        http = urllib3.PoolManager(ca_certs=ca_file, cert_reqs="CERT_REQUIRED")
        assert http.request("GET", f"{url}/ping").data == b"OK"
    finally:
        process.terminate()
        process.wait(5)


def test_a_body_cut_short_by_the_client_stores_nothing(riak, riak_url, riak_bucket):
    """A client killed between its headers and its body must not leave an empty value."""
    host, port = riak_url.removeprefix("http://").split("/")[0].rsplit(":", 1)
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            f"PUT /types/timak/buckets/{riak_bucket}/keys/cut HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\nabc".encode()
        )
    time.sleep(0.2)
    assert riak.get("cut").status == 404
