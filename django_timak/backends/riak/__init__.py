"""Timelines in Riak KV, spoken to over its HTTP API: one node, or several with failover.

Riak keeps concurrent writes as siblings (the bucket needs ``allow_mult: true``). The
Timeline merges siblings on its next read and writes the result with the vclock it
read, which replaces every sibling that read saw. Nothing here interprets the values.

The package has one module per job: ``options`` (validation), ``transport`` (pooled
HTTP, failover, TLS, credentials), ``multipart`` (reading siblings), ``errors`` (Riak's
error answers), ``admin`` (bucket properties and types) and ``checks`` (system checks,
imported only by ``RiakBackend.check()``, so importing the backend loads no Django).
"""

import copy
import json
import logging
from urllib.parse import quote, urlencode

from ...exceptions import BucketTypeMissing, RiakAccessDenied, TimelineBackendError
from ..base import BaseBackend, Versioned
from .admin import RECOMMENDED_PROPS, REQUIRED_PROPS, bucket_type_commands
from .errors import answer_error
from .multipart import parse_siblings
from .options import QUORUM_NAMES, check_name, check_number, check_quorum, credentials, node_addresses, tls_options
from .async_transport import AsyncRiak
from .threads import Threads
from .transport import Transport

# Names importable from django_timak.backends.riak before it became a package.
__all__ = ["RiakBackend", "BucketTypeMissing", "REQUIRED_PROPS", "RECOMMENDED_PROPS", "bucket_type_commands", "parse_siblings"]

logger = logging.getLogger("django_timak")

#: ping() and check() answer quickly, whatever the configured timeout.
PROBE_TIMEOUT = 1.0
# A single value asked for with "Accept: multipart/mixed" alone answers 406 Not Acceptable.
_ACCEPT = "multipart/mixed, */*;q=0.9"


def _segment(name: str) -> str:
    # quote() leaves "." alone, and a "." or ".." path segment would be resolved away
    # by any URL normaliser on the way: encode dots too.
    return quote(name, safe="").replace(".", "%2E")


class RiakBackend(AsyncRiak, BaseBackend):
    """Timelines in one Riak bucket, one object per timeline key.

    ``url`` names one node, ``urls`` several (requests spread over those that answer,
    and go to another when one fails). ``timeout`` bounds each attempt (connecting, and
    each wait for the answer); the whole call, failover and backoff included, ends
    within ``timeout * (retries + 1)``. A node that fails is tried last for ``down_for``
    seconds. ``r``, ``w``, ``pr``, ``pw`` and ``dw`` override the bucket's quorums.

    TLS: ``https://`` URLs, verified against ``ca_file`` (or the system's CAs) unless
    ``verify`` is false; ``client_cert``/``client_key`` prove who we are. Riak security:
    ``username``/``password`` (HTTP basic auth, sent only over TLS, never printed).
    """

    networked = True
    #: Riak's advice is to keep objects under 1 MB (it warns from 5 MB and refuses
    #: 50 MB by default); a Timeline can refuse larger values before writing.
    max_value_bytes = 1024 * 1024

    def __init__(
        self,
        url: str | None = None,
        bucket_type: str = "timak",
        bucket: str = "timelines",
        timeout: float = 2.0,
        pool_size: int = 10,
        retries: int = 2,
        r=None,
        w=None,
        pr=None,
        pw=None,
        dw=None,
        *,
        urls: list[str] | None = None,
        connect_timeout: float | None = None,
        backoff: float = 0.05,
        sibling_warning: int = 25,
        down_for: float = 5.0,
        ca_file: str | None = None,
        verify: bool = True,
        client_cert: str | None = None,
        client_key: str | None = None,
        username: str | None = None,
        password: str | None = None,
        async_pool_size: int = 100,
    ):
        addresses = node_addresses(url, urls)
        check_name("bucket_type", bucket_type)
        check_name("bucket", bucket)
        check_number("timeout", timeout, 0.001)
        check_number("pool_size", pool_size, 1, int)
        check_number("async_pool_size", async_pool_size, 1, int)
        check_number("retries", retries, 0, int)
        check_number("backoff", backoff, 0)
        check_number("sibling_warning", sibling_warning, 1, int)
        check_number("down_for", down_for, 0)
        if connect_timeout is not None:
            check_number("connect_timeout", connect_timeout, 0.001)
        quorums = dict(zip(QUORUM_NAMES, (r, w, pr, pw, dw)))
        for name, value in quorums.items():
            check_quorum(name, value)
        self.tls = tls_options(ca_file, verify, client_cert, client_key)
        login = credentials(username, password)
        self.urls = [address.url for address in addresses]
        self.url = self.urls[0]
        self.bucket_type = bucket_type
        self.bucket = bucket
        self.timeout = timeout
        self.connect_timeout = connect_timeout if connect_timeout is not None else timeout
        self.pool_size = pool_size
        #: Connections per node for each event loop: one loop serves many requests at once.
        self.async_pool_size = async_pool_size
        self.retries = retries
        self.backoff = backoff
        self.sibling_warning = sibling_warning
        self.username = login and login[0]
        #: Credentials configured for plain HTTP are never sent: check() reports E104.
        self.credentials_over_http = login is not None and not addresses[0].tls
        self.quorums = {name: value for name, value in quorums.items() if value is not None}
        self._bucket_path = f"/types/{_segment(bucket_type)}/buckets/{_segment(bucket)}"
        self._transport = Transport(
            addresses, tls=self.tls, credentials=login, timeout=timeout, connect_timeout=self.connect_timeout,
            retries=retries, backoff=backoff, pool_size=pool_size, down_for=down_for,
        )
        self._threads = Threads(pool_size, "timak-riak")

    def __repr__(self):
        user = f" user={self.username!r}" if self.username else ""
        return f"<RiakBackend {' '.join(self.urls)} type={self.bucket_type!r} bucket={self.bucket!r}{user}>"

    # The storage contract

    def read(self, key):
        """Return every sibling in one ``multipart/mixed`` answer, in Riak's order (none to rely on).

        Siblings are never fetched one by one (``?vtag=``) nor probed with ``HEAD``:
        one round trip, and no vtag that a concurrent write could make stale.
        """
        response = self._request("GET", self._key_path(key), key=key, query=self._quorum("r", "pr"), headers={"Accept": _ACCEPT}, ok=(200, 300, 404))
        # A deleted key answers 404 with its tombstone's vclock: the next write carries
        # it, so that the write descends from the delete instead of racing it.
        vclock = response.headers.get("X-Riak-Vclock")
        if response.status == 404:
            return Versioned([], vclock)
        if response.status == 200:
            return Versioned([response.data], vclock)
        try:
            parts = parse_siblings(response.headers.get("Content-Type", ""), response.data)
        except ValueError as e:
            raise TimelineBackendError(f"cannot read the siblings of {key!r}: {e}", status=300, key=key) from e
        if len(parts) > self.sibling_warning:
            logger.warning(
                "timak: Riak key %r has %d siblings (over %d): writers are outpacing merges; "
                "Riak refuses writes past object.siblings.maximum (100 by default)",
                key, len(parts), self.sibling_warning,
            )
        # A delete racing a write can leave its tombstone as a sibling until Riak reaps it.
        return Versioned([value for headers, value in parts if headers.get("x-riak-deleted") != "true"], vclock)

    def read_many(self, keys):
        """Return every key's siblings, read concurrently (``pool_size`` threads, shared by the store's callers).

        One GET per key: Riak's HTTP API has no multi-get, so a page over several keys
        costs about one round trip, not one per key. The first failure is raised.
        """
        keys = list(dict.fromkeys(keys))
        return dict(zip(keys, self._over_pool(self.read, keys)))

    def write(self, key, value, token):
        """Store ``value``; a concurrent write becomes a sibling, so never a plain WriteConflict.

        Without a token this is a blind append, which may be sent again (to another node)
        after a failure: Riak keeps it as a sibling, and the merge is idempotent. With a
        token, a failure that may have landed is RiakWriteInterrupted when another node
        is up, so the Timeline reads again and merges.
        """
        headers = {"Content-Type": "application/octet-stream"}
        if token is not None:
            headers["X-Riak-Vclock"] = token
        self._request(
            "PUT", self._key_path(key), key=key, query=self._quorum("w", "dw", "pw"), headers=headers,
            body=bytes(value), ok=(200, 204), resend=token is None,
        )

    def append(self, key, value):
        """Store ``value`` as one more sibling without reading (a PUT without a vclock).

        Riak keeps it beside whatever the key holds, and with ``returnbody`` says how
        many values the key holds now: 200 for one, or 300 with one vtag a line (no
        ``Accept`` header, so the list, not the values). An append may be sent again,
        to another node: a repeated one is one more identical sibling, which the
        merge folds in.
        """
        response = self._request(
            "PUT", self._key_path(key), key=key, query={**self._quorum("w", "dw", "pw"), "returnbody": "true"},
            headers={"Content-Type": "application/octet-stream"}, body=bytes(value), ok=(200, 300),
        )
        if response.status == 300:
            return max(1, response.data.count(b"\n") - 1)  # "Siblings:\n", then one vtag a line
        return 1

    def append_many(self, values):
        """Append every value, concurrently over the pool (``pool_size`` at a time): one PUT a key.

        The first failure is raised; the others may have landed, and since each is a
        blind append, sending the whole batch again only adds identical siblings.
        """
        return dict(zip(values, self._over_pool(self.append, list(values), list(values.values()))))

    def _over_pool(self, function, *arguments) -> list:
        """Return ``function`` of each tuple of ``arguments``: the first on this thread, the rest on the store's ``pool_size`` threads."""
        return self._threads.map(function, list(zip(*arguments)))

    def delete(self, key, token):
        headers = {"X-Riak-Vclock": token} if token is not None else {}
        self._request("DELETE", self._key_path(key), key=key, query=self._quorum("r", "pr", "w", "dw", "pw"), headers=headers, ok=(204, 404))

    def ping(self):
        """Return True if any node answers."""
        return any(error is None for error in self.node_status().values())

    def node_status(self) -> dict:
        """Return ``{url: None}`` for each node that answers a ping, ``{url: error}`` for the others."""
        status = {}
        for node in self._transport.nodes:
            try:
                response = self._request("GET", "/ping", ok=(200,), timeout=min(self.timeout, PROBE_TIMEOUT), attempts=1, node=node)
            except TimelineBackendError as e:
                status[node.url] = e
            else:
                ok = response.data.strip() == b"OK"
                status[node.url] = None if ok else TimelineBackendError(f"Riak at {node.url} answered /ping with {response.data[:100]!r}")
        return status

    def check(self):
        """Return Django check messages: the configuration, each node, the bucket's properties."""
        from .checks import check_backend

        return check_backend(self)

    def close(self):
        self._transport.close()
        self._threads.close()

    # Bucket properties

    def in_bucket(self, bucket: str) -> "RiakBackend":
        """Return this store's view of another bucket of its type, over the same connections."""
        check_name("bucket", bucket)
        other = copy.copy(self)
        other.bucket = bucket
        other._bucket_path = f"/types/{_segment(self.bucket_type)}/buckets/{_segment(bucket)}"
        return other

    @property
    def props_url(self) -> str:
        """Return the HTTP address of the bucket's properties (for hints and tools)."""
        return f"{self.url}{self._bucket_path}/props"

    def bucket_props(self, *, timeout: float | None = None, attempts: int | None = None) -> dict:
        """Return the bucket's properties; raise BucketTypeMissing if its type does not exist."""
        response = self._request("GET", f"{self._bucket_path}/props", ok=(200, 404), timeout=timeout, attempts=attempts)
        if response.status == 404:
            # Riak answers its generic "Not Found" page, not the key's "Unknown bucket type".
            raise self._type_missing(None)
        try:
            return dict(json.loads(response.data)["props"])
        except (ValueError, KeyError, TypeError) as e:
            raise TimelineBackendError(f"Riak answered unreadable bucket properties: {e}", status=200) from e

    def set_bucket_props(self, props: dict) -> None:
        """Set some of the bucket's properties; the others keep their values.

        Raise BucketPropsRefused, with Riak's reasons, when Riak refuses them (a type
        with ``dvv_enabled`` refuses ``last_write_wins: true``).
        """
        body = json.dumps({"props": props}).encode()
        self._request("PUT", f"{self._bucket_path}/props", headers={"Content-Type": "application/json"}, body=body, ok=(204,))

    # HTTP

    def _key_path(self, key):
        return f"{self._bucket_path}/keys/{_segment(key)}"

    def _quorum(self, *names):
        return {name: self.quorums[name] for name in names if name in self.quorums}

    def _type_missing(self, key):
        return BucketTypeMissing(
            f"Riak has no active bucket type {self.bucket_type!r}: run manage.py timak_riak_setup for the commands",
            status=404, key=key,
        )

    def _request(self, method, path, *, ok, key=None, resend=True, **options):
        """Return the answer whose status is in ``ok``, or raise the error that explains it."""
        if self.credentials_over_http:
            raise RiakAccessDenied(
                f"Riak at {self.url}: USERNAME and PASSWORD are sent only over TLS, so nothing was sent: "
                "use https:// URLs", key=key,
            )
        node, response = self._transport.send(method, path, key=key, resend=resend, **options)
        if response.status == 404 and response.data.startswith(b"Unknown bucket type"):
            # Riak answers a missing bucket type with the same status as a missing key.
            raise self._type_missing(key)
        if response.status in ok:
            return response
        query = options.get("query")
        request = f"{method} {path}?{urlencode(query)}" if query else f"{method} {path}"
        raise answer_error(
            response, request=request, key=key, node_url=node.url,
            bucket_type=self.bucket_type, bucket=self.bucket, username=self.username,
        )
