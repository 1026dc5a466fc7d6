"""A Riak KV node on loopback, for tests: no Riak to install, faithful to Riak KV 3.2.

It answers every call the Riak backend makes as a real node does (statuses, headers, body
shapes, quirks: the project's recorded transcripts), keeps real dotted version vectors so
siblings come and go as in Riak, and has deterministic fault knobs (latency, 503s,
stalls, dropped connections, down/up). It can serve TLS with certificates made for the
test, check Riak security's basic auth and grants, and run as a cluster: several
listeners over one shared store, each of which can go down on its own.

Test your own Riak code paths with it, in a pytest fixture::

    import pytest
    from django_timak import timelines
    from django_timak.testing.riak import RiakTestServer

    @pytest.fixture
    def riak(settings):
        with RiakTestServer() as server:
            settings.TIMAK_TIMELINES = {
                "default": {
                    "BACKEND": "django_timak.backends.riak.RiakBackend",
                    "OPTIONS": {"URL": server.url, "BUCKET": "timelines"},
                },
            }
            yield server

    def test_an_add_survives_a_failing_node(riak):
        riak.fail_next(1)  # the next request answers 503; the backend asks again
        timelines["default"].add("user:1:home", 1, 1)
        assert timelines["default"].get("user:1:home") == [1]

``RiakTestCluster(3)`` gives ``cluster.urls`` for ``OPTIONS["URLS"]`` and
``cluster.nodes[i].down()``; ``RiakTestServer(tls=True)`` serves https with a CA of its
own (``server.ca_file`` for ``OPTIONS["CA_FILE"]``); ``users={"timak": "pw"}`` turns
Riak security on. Nothing in the library imports this module.

Run one on its own with ``python -m django_timak.testing.riak --port 8098`` (``--tls`` to
serve https; it prints the CA file to verify it with).
"""

import argparse
import collections
import socket
import threading
import time

from .riak_http import RiakHTTPServer, RiakRequestHandler
from .riak_store import RiakStore


class RiakTestServer:
    """A Riak KV node on loopback, with deterministic fault knobs.

    Knobs count requests (1-based, every request counts): ``fail_every=N`` answers 503 to
    every Nth, ``drop_every=N`` closes every Nth connection unanswered and unapplied,
    ``stall_every=N`` sleeps ``stall_seconds`` before applying and answering every Nth;
    ``fail_next``/``drop_next``/``stall_next`` do the same to the next few requests.
    ``latency`` seconds are added to every request, outside the store lock.
    ``crash_after(n)`` answers n more requests, then goes down on the next one, cutting
    it unanswered: a node killed in the middle of a fan-out. ``handled`` lists the
    latest requests as ``"METHOD /path?query"``, oldest first; ``most_in_flight`` is the
    most requests it served at once.

    ``tls``: True (certificates made here) or a ``TestCertificates``, to serve https;
    ``require_client_cert`` asks clients for a certificate of that CA. ``users``
    (name to password) turns Riak security on: requests need basic auth over TLS, and
    with ``grants`` (a set such as ``{"riak_kv.get"}``) only those permissions pass.
    ``store`` shares the data of another node (see RiakTestCluster).
    """

    def __init__(self, host="127.0.0.1", port=0, *, bucket_types=None, max_siblings=100,
                 reap_after=3.0, store=None, tls=None, require_client_cert=False, users=None,
                 grants=None):
        self.host, self.port = host, port
        self._bucket_types = {"timak": {}} if bucket_types is None else dict(bucket_types)
        self._limits = (max_siblings, reap_after)
        self.store = store or RiakStore(self._bucket_types, max_siblings, reap_after)
        if tls is True:
            from .certificates import TestCertificates

            tls = TestCertificates()
        self.tls = tls or None
        self.tls_context = tls.server_context(require_client_cert=require_client_cert) if tls else None
        self.users = dict(users) if users is not None else None
        self.grants = set(grants) if grants is not None else None
        self._lock = threading.Lock()
        self._connections = set()
        self._httpd = self._thread = None
        self.in_flight = 0
        self.reset_faults()
        self.requests = 0
        self.handled = collections.deque(maxlen=10_000)

    url = property(lambda self: f"{'https' if self.tls else 'http'}://{self.host}:{self.port}")
    ca_file = property(lambda self: self.tls.ca_file if self.tls else None,
                       doc="The CA bundle that verifies this node's certificate (OPTIONS CA_FILE).")
    is_up = property(lambda self: self._httpd is not None)
    max_siblings = property(lambda self: self.store.max_siblings,
                            lambda self, value: setattr(self.store, "max_siblings", value))
    reap_after = property(lambda self: self.store.reap_after,
                          lambda self, value: setattr(self.store, "reap_after", value),
                          doc="Seconds before a tombstone is reaped; None keeps it forever.")

    def start(self):
        self.up()
        return self

    def stop(self):
        self.down()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def up(self):
        """Listen again, on the same port as before."""
        with self._lock:
            if self._httpd is None:
                self._httpd = RiakHTTPServer((self.host, self.port), RiakRequestHandler)
                self._httpd.riak = self
                self.port = self._httpd.server_address[1]
                self._thread = threading.Thread(target=self._httpd.serve_forever,
                                                kwargs={"poll_interval": 0.05}, daemon=True)
                self._thread.start()

    def down(self):
        """Refuse connections and cut the open ones, as a crashed node would."""
        with self._lock:
            httpd, self._httpd = self._httpd, None
            connections = list(self._connections)
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def reset(self):
        """Forget all data, bucket properties, added types, faults and the request count."""
        self.store.reset(self._bucket_types)
        self.reset_faults()
        with self._lock:
            self.requests = 0
            self.handled.clear()

    def reset_faults(self):
        """Clear every fault knob, restore max_siblings and reap_after, restart most_in_flight."""
        self.store.max_siblings, self.store.reap_after = self._limits
        self.most_in_flight = self.in_flight
        self.latency = 0.0
        self.fail_every = self.drop_every = self.stall_every = 0
        self.stall_seconds = 5.0
        self._next = {"drop": 0, "fail": 0, "stall": 0}
        self._crash_in = None

    def fail_next(self, count=1):
        self._next["fail"] += count

    def drop_next(self, count=1):
        self._next["drop"] += count

    def stall_next(self, count=1):
        self._next["stall"] += count

    def crash_after(self, count):
        """Answer ``count`` more requests, then go down on the next one."""
        with self._lock:
            self._crash_in = count

    def add_bucket_type(self, name, **props):
        """Create a bucket type (allow_mult and dvv_enabled default to true, as in Riak)."""
        self.store.add_bucket_type(name, **props)

    def sibling_count(self, bucket_type, bucket, key):
        """Values (tombstones included) stored under the key; 0 when there is none."""
        return self.store.sibling_count(bucket_type, bucket, key)

    def _fault(self, request):
        with self._lock:
            self.requests += 1
            self.handled.append(request)
            number = self.requests
            if self._crash_in is not None:
                self._crash_in -= 1
                if self._crash_in < 0:
                    self._crash_in = None
                    return "crash"
            for fault, every in (("drop", self.drop_every), ("fail", self.fail_every),
                                 ("stall", self.stall_every)):
                if self._next[fault]:
                    self._next[fault] -= 1
                    return fault
                if every and number % every == 0:
                    return fault
        return None

    def _busy(self, change):
        with self._lock:
            self.in_flight += change
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def _sleep(self, stall):
        """Wait out latency (and a stall); False when the node went down meanwhile."""
        delay = self.latency + (self.stall_seconds if stall else 0.0)
        if delay:
            time.sleep(delay)
        return self.is_up

    def _track(self, connection, open_):
        with self._lock:
            (self._connections.add if open_ else self._connections.discard)(connection)


class RiakTestCluster:
    """Several test nodes, each with its own port and faults, over one shared store.

    ``urls`` goes to ``OPTIONS["URLS"]``; ``nodes[i].down()`` and ``.up()`` take one node
    away and back while the others keep serving the same data. Node options (``tls``,
    ``users``, ``grants``, ...) apply to every node; with ``tls=True`` they share one CA.
    """

    def __init__(self, size=3, *, bucket_types=None, max_siblings=100, reap_after=3.0, tls=None, **node_options):
        if tls is True:
            from .certificates import TestCertificates

            tls = TestCertificates()
        first = RiakTestServer(bucket_types=bucket_types, max_siblings=max_siblings, reap_after=reap_after,
                               tls=tls, **node_options)
        others = [RiakTestServer(store=first.store, bucket_types=bucket_types, max_siblings=max_siblings,
                                 reap_after=reap_after, tls=tls, **node_options) for _ in range(size - 1)]
        self.nodes = [first, *others]
        self.store = first.store

    urls = property(lambda self: [node.url for node in self.nodes])
    ca_file = property(lambda self: self.nodes[0].ca_file)

    def start(self):
        for node in self.nodes:
            node.up()
        return self

    def stop(self):
        for node in self.nodes:
            node.down()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def reset(self):
        """Forget all data and clear every node's faults and request count."""
        for node in self.nodes:
            node.reset()

    @property
    def requests(self):
        """Requests every node has received, added up."""
        return sum(node.requests for node in self.nodes)


def main():
    parser = argparse.ArgumentParser(description="A Riak KV test node on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8098)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--tls", action="store_true", help="serve https, with a CA made for this run")
    args = parser.parse_args()
    with RiakTestServer(args.host, args.port, tls=args.tls) as server:
        server.latency = args.latency
        print(f"Riak test server on {server.url} (Ctrl-C stops it)", flush=True)
        if server.ca_file:
            print(f"CA_FILE: {server.ca_file}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
