"""Timelines in Riak KV, spoken to over its HTTP API through a pooled urllib3 connection.

Riak keeps concurrent writes as siblings (the bucket needs ``allow_mult: true``). The
Timeline merges siblings on its next read and writes the result with the vclock it
read, which replaces every sibling that read saw. Nothing here interprets the values.
"""

import json
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from urllib.parse import quote, urlencode, urlsplit

from django.core import checks

from ..exceptions import TimelineBackendError
from .base import BaseBackend, Versioned

logger = logging.getLogger("django_timak")

#: Bucket properties without which concurrent writes lose items.
REQUIRED_PROPS = {"allow_mult": True, "last_write_wins": False}
#: Dotted version vectors keep concurrent writers from piling up siblings.
RECOMMENDED_PROPS = {"dvv_enabled": True}
QUORUM_WORDS = frozenset({"one", "quorum", "all", "default"})
#: Riak answers 500 for failures that a retry repeats (a bad vclock, too many siblings).
RETRY_STATUSES = frozenset({502, 503, 504})
#: ping() and check() answer quickly, whatever the configured timeout.
PROBE_TIMEOUT = 1.0
# A single value asked for with "Accept: multipart/mixed" alone answers 406 Not Acceptable.
_ACCEPT = "multipart/mixed, */*;q=0.9"
_TOO_MANY_SIBLINGS = re.compile(rb"too_many_siblings,\s*(\d+)")


class BucketTypeMissing(TimelineBackendError):
    """The configured bucket type was never created (or not activated) on the cluster."""


def bucket_type_commands(bucket_type: str) -> list[str]:
    """Return the ``riak admin`` commands that create a bucket type fit for timelines."""
    props = json.dumps({"props": {**REQUIRED_PROPS, **RECOMMENDED_PROPS}}, separators=(",", ":"))
    return [
        f"riak admin bucket-type create {bucket_type} '{props}'",
        f"riak admin bucket-type activate {bucket_type}",
    ]


def parse_siblings(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """Return ``(headers, value)`` of each part of a ``multipart/mixed`` answer.

    Byte-exact for binary values: a part's value is everything between its blank line
    and the CRLF that opens the next delimiter (RFC 2046). Header names are lower-cased.
    """
    header = Message()
    header["Content-Type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/mixed" or not boundary:
        raise ValueError(f"expected multipart/mixed with a boundary, got {content_type!r}")
    # Riak opens the body with a CRLF; prefixing one also accepts a body without it.
    preamble, *parts = (b"\r\n" + body).split(b"\r\n--" + boundary.encode("ascii"))
    if not parts or not parts[-1].startswith(b"--"):
        raise ValueError("the multipart body has no closing delimiter")
    siblings = []
    for part in parts[:-1]:
        padding, crlf, rest = part.partition(b"\r\n")
        if padding.strip(b" \t") or not crlf:
            raise ValueError("malformed multipart delimiter line")
        if rest.startswith(b"\r\n"):
            head, value = b"", rest[2:]
        else:
            head, blank, value = rest.partition(b"\r\n\r\n")
            if not blank:
                raise ValueError("a multipart part has no blank line after its headers")
        headers = {}
        for line in head.decode("latin-1").split("\r\n") if head else ():
            name, colon, field = line.partition(":")
            if not colon:
                raise ValueError(f"malformed multipart header line {line!r}")
            headers[name.strip().lower()] = field.strip()
        siblings.append((headers, value))
    return siblings


def _segment(name: str) -> str:
    # quote() leaves "." alone, and a "." or ".." path segment would be resolved away
    # by any URL normaliser on the way: encode dots too.
    return quote(name, safe="").replace(".", "%2E")


def _check_quorum(name, value):
    if value is None or value in QUORUM_WORDS:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        words = ", ".join(sorted(QUORUM_WORDS))
        raise ValueError(f"{name} must be a non-negative int or one of {words}, not {value!r}")


def _check_number(name, value, low, kind=(int, float)):
    if isinstance(value, bool) or not isinstance(value, kind) or value < low:
        raise ValueError(f"{name} must be a number of at least {low}, not {value!r}")


class RiakBackend(BaseBackend):
    """Timelines in one Riak bucket, one object per timeline key.

    ``timeout`` bounds each attempt (connecting, and each wait for the answer);
    ``retries`` more attempts follow a connection error or a 502/503/504, and the
    whole call, backoff included, ends within ``timeout * (retries + 1)``.
    ``r``, ``w``, ``pr``, ``pw`` and ``dw`` override the bucket's quorums per request.
    """

    networked = True
    keeps_siblings = True
    #: Riak's advice is to keep objects under 1 MB (it warns from 5 MB and refuses
    #: 50 MB by default); a Timeline can refuse larger values before writing.
    max_value_bytes = 1024 * 1024

    def __init__(
        self,
        url: str = "http://127.0.0.1:8098",
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
        connect_timeout: float | None = None,
        backoff: float = 0.05,
        sibling_warning: int = 25,
    ):
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url must be an http:// or https:// URL of a Riak node, not {url!r}")
        if parts.username is not None or parts.query or parts.fragment:
            raise ValueError(f"url cannot carry credentials, a query or a fragment: {url!r}")
        parts.port  # raises ValueError for a port that is not a number
        for name, value in (("bucket_type", bucket_type), ("bucket", bucket)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string, not {value!r}")
        _check_number("timeout", timeout, 0.001)
        _check_number("pool_size", pool_size, 1, int)
        _check_number("retries", retries, 0, int)
        _check_number("backoff", backoff, 0)
        _check_number("sibling_warning", sibling_warning, 1, int)
        if connect_timeout is not None:
            _check_number("connect_timeout", connect_timeout, 0.001)
        for name, value in (("r", r), ("w", w), ("pr", pr), ("pw", pw), ("dw", dw)):
            _check_quorum(name, value)
        self.url = url.rstrip("/")
        self.bucket_type = bucket_type
        self.bucket = bucket
        self.timeout = timeout
        self.connect_timeout = connect_timeout if connect_timeout is not None else timeout
        self.pool_size = pool_size
        self.retries = retries
        self.backoff = backoff
        self.sibling_warning = sibling_warning
        self.quorums = {name: value for name, value in (("r", r), ("w", w), ("pr", pr), ("pw", pw), ("dw", dw)) if value is not None}
        self._prefix = parts.path.rstrip("/")
        self._bucket_path = f"{self._prefix}/types/{_segment(bucket_type)}/buckets/{_segment(bucket)}"
        self._pool = None
        self._executor = None
        self._lock = threading.Lock()

    def __repr__(self):
        return f"<RiakBackend {self.url} type={self.bucket_type!r} bucket={self.bucket!r}>"

    # The storage contract

    def read(self, key):
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

    def write(self, key, value, token):
        """Store ``value``; a concurrent write becomes a sibling, so never a WriteConflict.

        A retried PUT is safe: it carries the same vclock and the same merged value, so
        if the first attempt did land, the retry only adds an identical sibling, which
        the next read merges away (the merge is idempotent) and read repair removes.
        """
        headers = {"Content-Type": "application/octet-stream"}
        if token is not None:
            headers["X-Riak-Vclock"] = token
        self._request("PUT", self._key_path(key), key=key, query=self._quorum("w", "dw", "pw"), headers=headers, body=bytes(value), ok=(200, 204))

    def delete(self, key, token):
        headers = {"X-Riak-Vclock": token} if token is not None else {}
        self._request("DELETE", self._key_path(key), key=key, query=self._quorum("r", "pr", "w", "dw", "pw"), headers=headers, ok=(204, 404))

    def read_many(self, keys):
        """Read the keys concurrently, at most ``pool_size`` at a time."""
        keys = list(dict.fromkeys(keys))
        if len(keys) < 2:
            return {key: self.read(key) for key in keys}
        return dict(zip(keys, self._threads().map(self.read, keys)))

    def ping(self):
        try:
            response = self._request("GET", f"{self._prefix}/ping", ok=(200,), timeout=min(self.timeout, PROBE_TIMEOUT), attempts=1)
        except TimelineBackendError:
            return False
        return response.data.strip() == b"OK"

    def close(self):
        with self._lock:
            pool, self._pool = self._pool, None
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False)
        if pool is not None:
            pool.close()

    # Bucket properties

    @property
    def props_url(self) -> str:
        """Return the HTTP address of the bucket's properties (for hints and tools)."""
        return f"{self.url.removesuffix(self._prefix)}{self._bucket_path}/props"

    def bucket_props(self, *, timeout: float | None = None, attempts: int | None = None) -> dict:
        """Return the bucket's properties; raise BucketTypeMissing if its type does not exist."""
        response = self._request("GET", f"{self._bucket_path}/props", ok=(200,), timeout=timeout, attempts=attempts)
        try:
            return dict(json.loads(response.data)["props"])
        except (ValueError, KeyError, TypeError) as e:
            raise TimelineBackendError(f"Riak answered unreadable bucket properties: {e}", status=200) from e

    def set_bucket_props(self, props: dict) -> None:
        """Set some of the bucket's properties; the others keep their values."""
        body = json.dumps({"props": props}).encode()
        self._request("PUT", f"{self._bucket_path}/props", headers={"Content-Type": "application/json"}, body=body, ok=(204,))

    def check(self):
        """Return Errors for bucket properties that lose writes; a Warning if Riak is unreachable.

        An unreachable Riak is only a Warning: ``manage.py check`` runs before deploys
        and in CI, where Riak is often down, and an Error would block every command.
        """
        where = f"Riak bucket {self.bucket!r} of type {self.bucket_type!r} at {self.url}"
        try:
            props = self.bucket_props(timeout=min(self.timeout, PROBE_TIMEOUT), attempts=1)
        except BucketTypeMissing:
            return [
                checks.Error(
                    f"{where}: the bucket type does not exist.",
                    hint="On a Riak node run: " + " && ".join(bucket_type_commands(self.bucket_type)),
                    id="django_timak.E103",
                )
            ]
        except TimelineBackendError as e:
            return [
                checks.Warning(
                    f"{where} did not answer, so its properties were not checked.",
                    hint=f"{e.message}. Start Riak or fix OPTIONS URL, then run manage.py check again.",
                    id="django_timak.W101",
                )
            ]
        messages = []
        if props.get("allow_mult") is not True:
            messages.append(
                checks.Error(
                    f"{where} has allow_mult false: concurrent writes overwrite each other and lose items.",
                    hint=self._props_hint({"allow_mult": True}),
                    id="django_timak.E101",
                )
            )
        if props.get("last_write_wins") is True:
            messages.append(
                checks.Error(
                    f"{where} has last_write_wins true: Riak ignores vclocks and concurrent writes lose items.",
                    hint=self._props_hint({"last_write_wins": False}),
                    id="django_timak.E102",
                )
            )
        if props.get("dvv_enabled") is not True:
            # The default type cannot be recreated: timelines need a type of their own.
            name = "timak" if self.bucket_type == "default" else self.bucket_type
            messages.append(
                checks.Warning(
                    f"{where} has dvv_enabled false: concurrent writers can pile up siblings.",
                    hint=f"On a Riak node run: {' && '.join(bucket_type_commands(name))}; "
                    f"and set OPTIONS BUCKET_TYPE to {name!r}.",
                    id="django_timak.W102",
                )
            )
        return messages

    def _props_hint(self, props):
        body = json.dumps({"props": props}, separators=(",", ":"))
        return (
            f"Run manage.py timak_riak_setup, or: curl -X PUT -H 'Content-Type: application/json' "
            f"-d '{body}' {self.props_url}"
        )

    # HTTP

    def _key_path(self, key):
        return f"{self._bucket_path}/keys/{_segment(key)}"

    def _quorum(self, *names):
        return {name: self.quorums[name] for name in names if name in self.quorums}

    def _connection(self):
        with self._lock:
            if self._pool is None:
                import urllib3

                self._pool = urllib3.connection_from_url(self.url, maxsize=self.pool_size, block=True, retries=False)
            return self._pool

    def _threads(self):
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.pool_size, thread_name_prefix="timak-riak")
            return self._executor

    def _request(self, method, path, *, ok, key=None, query=None, headers=None, body=None, timeout=None, attempts=None):
        """Return the answer whose status is in ``ok``, or raise TimelineBackendError.

        Connection errors and 502/503/504 are retried with exponential backoff while
        the budget of ``timeout * attempts`` seconds lasts.
        """
        import urllib3

        timeout = timeout or self.timeout
        attempts = attempts or self.retries + 1
        target = f"{path}?{urlencode(query)}" if query else path
        deadline = time.monotonic() + timeout * attempts
        for attempt in range(attempts):
            left = deadline - time.monotonic()
            try:
                response = self._connection().urlopen(
                    method,
                    target,
                    body=body,
                    headers=headers,
                    retries=False,
                    redirect=False,
                    timeout=urllib3.Timeout(connect=min(self.connect_timeout, left), read=min(timeout, left)),
                    pool_timeout=left,
                )
            except (urllib3.exceptions.HTTPError, OSError) as e:
                error = TimelineBackendError(f"Riak at {self.url} failed on {method} {target}: {e}", key=key)
                error.__cause__ = e
            else:
                if response.status in ok and not _unknown_type(response):
                    return response
                error = self._error(method, target, response, key)
                if response.status not in RETRY_STATUSES:
                    raise error
            pause = self.backoff * 2**attempt
            if attempt + 1 == attempts or deadline - time.monotonic() <= pause:
                break
            time.sleep(pause)
        raise error

    def _error(self, method, target, response, key):
        text = response.data.decode("utf-8", "replace").strip()[:500]
        if _unknown_type(response):
            return BucketTypeMissing(
                f"Riak has no active bucket type {self.bucket_type!r}: run manage.py timak_riak_setup for the commands",
                status=response.status,
                key=key,
            )
        found = _TOO_MANY_SIBLINGS.search(response.data) if response.status == 500 else None
        if found:
            return TimelineBackendError(
                f"Riak refused to store {key!r}: it would hold {int(found[1])} siblings, over the node's "
                f"object.siblings.maximum (riak.conf, 100 by default); reading the key merges them",
                status=500,
                key=key,
            )
        return TimelineBackendError(
            f"Riak answered {response.status} {response.reason} to {method} {target}: {text}",
            status=response.status,
            key=key,
        )


def _unknown_type(response):
    # Riak answers a missing bucket type with the same 404 as a missing key.
    return response.status == 404 and response.data.startswith(b"Unknown bucket type")
