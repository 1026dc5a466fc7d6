"""Pooled HTTP to the nodes of a Riak cluster: failover, bounded time, safe retries.

Each node has its own urllib3 pool, made on first use. A call starts at the next node in
turn (so load spreads) and prefers nodes that answer; a node that fails (connection
refused, a timeout, a dropped connection, 502/503/504) is marked down for ``down_for``
seconds and the call moves to another node, all within ``timeout * (retries + 1)``
seconds. A node marked down is still tried when no other is left, and is up again as
soon as it answers. Trying a node not yet tried in the call is free; ``retries`` counts
only the attempts that go back to a node, after a backoff.

What may be sent again: whatever never left (the connection was not made), and every
request that Riak applies the same way twice (reads, a blind append, a delete, bucket
properties). A read-merge-write (a PUT carrying a vclock) that may have landed is not
re-sent: when another node is up, RiakWriteInterrupted (a WriteConflict) makes the
Timeline read again from it and write a fresh merge; otherwise the failure stands.
"""

import base64
import logging
import threading
import time
from urllib.parse import urlencode

from ...exceptions import RiakTLSError, RiakWriteInterrupted, TimelineBackendError

logger = logging.getLogger("django_timak")

#: Answers that a node gives while it cannot serve (Riak answers 500 for failures that a
#: retry repeats, such as a bad vclock or too many siblings).
RETRY_STATUSES = frozenset({502, 503, 504})


class _Hidden(str):
    """A header value that prints as a mask: a traceback's locals never show the password."""

    def __repr__(self):
        return "'<hidden>'"


class Node:
    """One node: its address, its pool (made on first use), and until when it is marked down."""

    def __init__(self, address):
        self.address = address
        self.pool = None
        self.down_until = 0.0

    @property
    def url(self):
        return self.address.url

    def is_down(self, now=None):
        return self.down_until > (time.monotonic() if now is None else now)


class _Failure:
    """Why an attempt got no usable answer, and whether the request may have reached Riak."""

    def __init__(self, node, request, error=None, response=None, *, sent=True, blame=True):
        self.node, self.request, self.error, self.response = node, request, error, response
        self.sent, self.blame = sent, blame

    def describe(self):
        if self.response is not None:
            return f"{self.response.status} {self.response.reason}"
        return str(self.error)

    def exception(self, key):
        """Return the backend error for a failure that got no answer at all."""
        import urllib3

        error, url = self.error, self.node.url
        if isinstance(error, urllib3.exceptions.SSLError):
            found = RiakTLSError(
                f"TLS with Riak at {url} failed on {self.request}: {error}; set CA_FILE to the CA that "
                "signed the nodes' certificates (VERIFY false skips the check, at the price of security)",
                key=key,
            )
        elif isinstance(error, urllib3.exceptions.ProtocolError) and not self.node.address.tls:
            found = TimelineBackendError(
                f"Riak at {url} failed on {self.request}: {error} (a node that serves TLS closes plain "
                "HTTP connections like this: if it does, use an https:// URL)",
                key=key,
            )
        else:
            found = TimelineBackendError(f"Riak at {url} failed on {self.request}: {error}", key=key)
        found.__cause__ = error
        return found


class Transport:
    """Send requests to the nodes of one cluster, as one user, within bounded time."""

    def _sleep(self, seconds):
        """Back off before a retry (the async transport awaits instead)."""
        time.sleep(seconds)

    def __init__(self, addresses, *, tls, credentials, timeout, connect_timeout, retries, backoff, pool_size, down_for):
        self.nodes = [Node(address) for address in addresses]
        self.tls = tls
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.retries = retries
        self.backoff = backoff
        self.pool_size = pool_size
        self.down_for = down_for
        self._auth = {}
        if credentials is not None:
            token = base64.b64encode(":".join(credentials).encode()).decode("ascii")
            self._auth = {"Authorization": _Hidden(f"Basic {token}")}
        self._turn = 0
        self._lock = threading.Lock()

    def send(self, method, path, *, key=None, query=None, headers=None, body=None, timeout=None, attempts=None, resend=True, node=None):
        """Return ``(node, answer)``: the first answer that is no node failure, or the last failing one.

        Raise TimelineBackendError (RiakTLSError for a failed handshake) when no node
        answered at all, and RiakWriteInterrupted where ``resend`` is false and the
        request may have landed while another node is up. ``node`` pins one node.
        """
        timeout = timeout or self.timeout
        attempts = attempts or self.retries + 1
        nodes = [node] if node is not None else self._in_turn()
        target = f"{path}?{urlencode(query)}" if query else path
        headers = {**(headers or {}), **self._auth}
        deadline = time.monotonic() + timeout * attempts
        tried, failure = [], None
        for _ in range(attempts + len(nodes) - 1):
            chosen = self._choose(nodes, tried)
            if chosen in tried:
                pause = self.backoff * 2 ** (len(tried) - len(set(tried)))
                if deadline - time.monotonic() <= pause:
                    break
                self._sleep(pause)
            left = deadline - time.monotonic()
            if left <= 0:
                break
            tried.append(chosen)
            request = f"{method} {target}"
            answer = self._attempt(chosen, method, chosen.address.prefix + target, headers, body, timeout, left, request)
            if not isinstance(answer, _Failure):
                chosen.down_until = 0.0
                return chosen, answer
            failure = answer
            self._mark_down(chosen, failure)
            if failure.sent and not resend:
                others = [n for n in nodes if n is not chosen and not n.is_down()]
                if others:
                    raise RiakWriteInterrupted(
                        f"Riak at {chosen.url} failed on {request} ({failure.describe()}) after it may have "
                        f"stored it: read again from another node and merge",
                        status=failure.response.status if failure.response is not None else None,
                        key=key,
                    )
                break
        if failure is None:
            raise TimelineBackendError(f"Riak: no time left to send {method} {target}", key=key)
        if failure.response is not None:
            return failure.node, failure.response
        raise failure.exception(key)

    def close(self):
        with self._lock:
            pools = [node.pool for node in self.nodes if node.pool is not None]
            for node in self.nodes:
                node.pool = None
        for pool in pools:
            pool.close()

    def _in_turn(self):
        """Return every node, starting at the next one in turn."""
        with self._lock:
            start = self._turn
            self._turn = (self._turn + 1) % len(self.nodes)
        return self.nodes[start:] + self.nodes[:start]

    @staticmethod
    def _choose(nodes, tried):
        """Return the node to try next: untried before tried, up before down, soonest back first."""
        now = time.monotonic()
        return min(nodes, key=lambda n: (tried.count(n), n.is_down(now), n.down_until if n.is_down(now) else 0.0))

    def _attempt(self, node, method, target, headers, body, timeout, left, request):
        """Return the answer of one node, or a _Failure saying what went wrong."""
        import urllib3

        try:
            pool = self._pool(node)
            response = pool.urlopen(
                method, target, body=body, headers=headers, retries=False, redirect=False,
                timeout=urllib3.Timeout(connect=min(self.connect_timeout, left), read=min(timeout, left)),
                pool_timeout=left,
            )
        except urllib3.exceptions.EmptyPoolError as e:
            return _Failure(node, request, e, sent=False, blame=False)
        except (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.SSLError) as e:
            # Includes NewConnectionError (refused): the request never left.
            return _Failure(node, request, e, sent=False)
        except urllib3.exceptions.HTTPError as e:
            return _Failure(node, request, e)
        except OSError as e:  # a TLS file that cannot be read, before any connection
            return _Failure(node, request, e, sent=False)
        if response.status in RETRY_STATUSES:
            return _Failure(node, request, response=response)
        return response

    def _mark_down(self, node, failure):
        if not failure.blame:  # our own pool was saturated: the node is not to blame
            return
        if not node.is_down():
            logger.warning(
                "timak: Riak node %s failed (%s); other nodes are tried first for %g s",
                node.url, failure.describe(), self.down_for,
            )
        node.down_until = time.monotonic() + self.down_for

    def _pool(self, node):
        with self._lock:
            if node.pool is None:
                import urllib3

                options = {"maxsize": self.pool_size, "block": True, "retries": False}
                if node.address.tls:
                    options.update(
                        cert_reqs="CERT_REQUIRED" if self.tls.verify else "CERT_NONE",
                        ca_certs=self.tls.ca_file,
                        cert_file=self.tls.client_cert,
                        key_file=self.tls.client_key,
                    )
                    if not self.tls.verify:
                        options["assert_hostname"] = False
                node.pool = urllib3.connection_from_url(node.address.url, **options)
            return node.pool
