"""A Riak KV HTTP test server: loopback, stdlib only, faithful to Riak KV 3.2.

No Riak can be installed where the tests run, so the suite carries this stand-in. It answers
every call the Riak backend makes as `/work/shared/riak/transcripts.md` records a real node
answering (statuses, headers, body shapes, quirks), keeps real dotted version vectors so
sibling creation and resolution behave as in Riak, and has deterministic fault knobs
(latency, 503s, stalls, dropped connections, down/up) for resilience tests.

Run on its own with ``python -m tests.riak_server --port 8098``.
"""

import argparse
import base64
import gzip
import hashlib
import json
import re
import secrets
import socket
import threading
import time
import zlib
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote_plus, unquote_plus

NODE = "riak@127.0.0.1"
_BASE_PROPS = {
    "allow_mult": False, "basic_quorum": False, "big_vclock": 50,
    "chash_keyfun": {"mod": "riak_core_util", "fun": "chash_std_keyfun"},
    "dvv_enabled": False, "dw": "quorum", "last_write_wins": False,
    "linkfun": {"mod": "riak_kv_wm_link_walker", "fun": "mapreduce_linkfun"},
    "n_val": 3, "node_confirms": 0, "notfound_ok": True, "old_vclock": 86400,
    "postcommit": [], "pr": 0, "precommit": [], "pw": 0, "r": "quorum", "rw": "quorum",
    "small_vclock": 50, "sync_on_write": "backend", "w": "quorum", "young_vclock": 20,
}
# The default type carries repl/write_once; created types carry active/claimant instead,
# and default to allow_mult and dvv_enabled on (Riak 2.0+).
_DEFAULT_TYPE = {**_BASE_PROPS, "repl": True, "write_once": False}
_CREATED_TYPE = {**_BASE_PROPS, "active": True, "claimant": NODE,
                 "allow_mult": True, "dvv_enabled": True}

_QUORUM_PARAMS = ("r", "w", "dw", "rw", "pw", "node_confirms", "pr")
_QUORUM_WORDS = {"default", "one", "quorum", "all", "backend"}
_CHECKED_BY = {"GET": ("r", "pr"), "HEAD": ("r", "pr"), "PUT": ("w", "dw", "pw", "node_confirms"),
               "POST": ("w", "dw", "pw", "node_confirms"), "DELETE": _QUORUM_PARAMS}
_NOT_FOUND = b"not found\n"
_LINK_WALK = (b"Invalid link walk query submitted. Valid link walk query format is: "
              b"/riak/some_bucket/some_key/<bucket>,<riaktag>,0|1/...")
_ADDRESS = "<p><hr><address>mochiweb+webmachine web server</address></body></html>"
_NOT_ACCEPTABLE = ("<html><head><title>406 Not Acceptable</title></head><body>"
                   "<h1>Not Acceptable</h1>" + _ADDRESS).encode()
_NO_ROUTE = ("<HTML><HEAD><TITLE>404 Not Found</TITLE></HEAD><BODY><H1>Not Found</H1>The "
             "requested document was not found on this server.<P><HR><ADDRESS>mochiweb+"
             "webmachine web server</ADDRESS></BODY></HTML>").encode()
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _base62(number):
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = _B62[rest] + digits
    return digits or "0"


def _unique_id(bits=128):
    """A vtag (128 bits) or boundary (160 bits) shaped like Riak's: base 62 of random bits."""
    return _base62(int.from_bytes(secrets.token_bytes(bits // 8), "big"))


def encode_vclock(clock):
    """The opaque `X-Riak-Vclock` value: base64 of zlib'd JSON pairs, sorted."""
    return base64.b64encode(zlib.compress(json.dumps(sorted(clock.items())).encode())).decode()


def decode_vclock(header):
    """Parse a client's `X-Riak-Vclock`; ValueError when it is not one of ours."""
    try:
        pairs = json.loads(zlib.decompress(base64.b64decode(header, validate=True)))
        clock = {actor: counter for actor, counter in pairs}
    except (ValueError, TypeError, zlib.error) as error:
        raise ValueError(f"bad vclock: {header!r}") from error
    if not all(isinstance(a, str) and type(n) is int and n > 0 for a, n in clock.items()):
        raise ValueError(f"bad vclock: {header!r}")
    return clock


@dataclass(frozen=True)
class Sibling:
    """One value of an object, with the dot (actor, counter) of the write that made it."""

    value: bytes
    content_type: str | None  # None for a tombstone
    meta: tuple
    vtag: str
    modified: float
    dot: tuple

    @property
    def deleted(self):
        return self.content_type is None


@dataclass(frozen=True)
class Snapshot:
    """What a read sees: the object's encoded version vector and its siblings."""

    vclock: str
    siblings: tuple

    @property
    def deleted(self):
        return all(s.deleted for s in self.siblings)


class TooManySiblings(Exception):
    """A write would leave more than `max_siblings` values; Riak refuses it whole."""


class _Object:
    """An object's state. Each incarnation has its own actor (like Riak's per-key epochs),
    so a context read before a tombstone was reaped never covers values written after."""

    def __init__(self):
        self.actor = secrets.token_hex(4)
        self.clock = {}
        self.siblings = ()
        self.reap_at = None


class RiakStore:
    """Buckets, bucket types and objects behind one lock, with Riak's causality rules."""

    def __init__(self, bucket_types, max_siblings, reap_after):
        self.max_siblings = max_siblings
        self.reap_after = reap_after
        self._lock = threading.Lock()
        self._types = {"default": dict(_DEFAULT_TYPE)}
        for name, props in bucket_types.items():
            self.add_bucket_type(name, **props)
        self._buckets = {}
        self._objects = {}

    def add_bucket_type(self, name, **props):
        with self._lock:
            self._types[name] = {**_CREATED_TYPE, **props}

    def bucket_props(self, btype, bucket):
        """The bucket's properties, or None when the bucket type does not exist."""
        with self._lock:
            return self._props(btype, bucket)

    def set_bucket_props(self, btype, bucket, props):
        with self._lock:
            self._buckets.setdefault((btype, bucket), {}).update(props)

    def get(self, btype, bucket, key):
        with self._lock:
            obj = self._live((btype, bucket, key))
            return obj and Snapshot(encode_vclock(obj.clock), obj.siblings)

    def put(self, btype, bucket, key, context, value, content_type, meta=()):
        with self._lock:
            return self._write((btype, bucket, key), context, value, content_type, meta)

    def delete(self, btype, bucket, key, context):
        """Write a tombstone; without a context, over what is there (None if nothing is)."""
        with self._lock:
            if context is None:
                obj = self._live((btype, bucket, key))
                if obj is None or all(s.deleted for s in obj.siblings):
                    return None
                context = obj.clock
            return self._write((btype, bucket, key), context, b"", None, ())

    def keys(self, btype, bucket):
        with self._lock:
            return [k for (t, b, k) in list(self._objects)
                    if (t, b) == (btype, bucket) and self._live((t, b, k))]

    def sibling_count(self, btype, bucket, key):
        with self._lock:
            obj = self._live((btype, bucket, key))
            return len(obj.siblings) if obj else 0

    def reset(self, bucket_types):
        with self._lock:
            self._types = {"default": dict(_DEFAULT_TYPE)}
            self._types.update({n: {**_CREATED_TYPE, **p} for n, p in bucket_types.items()})
            self._buckets.clear()
            self._objects.clear()

    def _props(self, btype, bucket):
        if btype not in self._types:
            return None
        return {**self._types[btype], **self._buckets.get((btype, bucket), {})}

    def _live(self, path):
        obj = self._objects.get(path)
        if obj and obj.reap_at is not None and time.monotonic() >= obj.reap_at:
            del self._objects[path]
            return None
        return obj

    def _write(self, path, context, value, content_type, meta):
        """Dotted-version-vector update: drop the siblings the context covers, add one."""
        props = self._props(path[0], path[1])
        obj = self._live(path) or _Object()
        context = context or {}
        counter = max(obj.clock.get(obj.actor, 0), context.get(obj.actor, 0)) + 1
        new = Sibling(value, content_type, tuple(meta), _unique_id(), time.time(),
                      (obj.actor, counter))
        if props["allow_mult"] and not props["last_write_wins"]:
            kept = [s for s in obj.siblings if context.get(s.dot[0], 0) < s.dot[1]]
            siblings = (*kept, new)
        else:
            siblings = (new,)
        if len(siblings) > self.max_siblings:
            raise TooManySiblings(len(siblings))
        for actor, count in context.items():
            obj.clock[actor] = max(obj.clock.get(actor, 0), count)
        obj.clock[obj.actor] = counter
        obj.siblings = siblings
        # Riak reaps a tombstone after delete_mode (3 s); any later write aborts the reap.
        tombstone = all(s.deleted for s in siblings) and self.reap_after is not None
        obj.reap_at = time.monotonic() + self.reap_after if tombstone else None
        self._objects[path] = obj
        return Snapshot(encode_vclock(obj.clock), siblings)


def _media_ranges(header):
    """Accept-style header -> media ranges, best q first (stable); q=0 excluded."""
    ranges = []
    for index, item in enumerate((header or "*/*").split(",")):
        media, *params = [part.strip() for part in item.split(";")]
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            ranges.append((-quality, index, media.lower()))
    return [media for _, _, media in sorted(ranges)]


def choose_media_type(provided, header):
    """Webmachine's choice: for each acceptable range, best first, the first provided match."""
    for accepted in _media_ranges(header):
        for offer in provided:
            media = offer.split(";")[0].strip().lower()
            if accepted in ("*", "*/*", media) or (
                    accepted.endswith("/*") and media.startswith(accepted[:-1])):
                return offer
    return None


def _http_date(seconds):
    return formatdate(seconds, usegmt=True)


class _Handler(BaseHTTPRequestHandler):
    """Routes Riak's HTTP API onto the store; all answers carry a Content-Length."""

    protocol_version = "HTTP/1.1"
    _REASONS = {404: "Object Not Found"}

    def version_string(self):
        return "MochiWeb/1.1 WebMachine/1.10.9 (cafe not found)"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm
        # and the client's delayed ACK add ~40 ms to every answer with a body.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.riak._track(self.connection, True)

    def finish(self):
        self.server.riak._track(self.connection, False)
        super().finish()

    def do_GET(self):
        self._serve()

    do_HEAD = do_PUT = do_POST = do_DELETE = do_GET

    def _serve(self):
        riak = self.server.riak
        fault = riak._fault()
        body = self._read_body()
        if body is None:  # the client went away mid-request: like Riak, store nothing
            self.close_connection = True
            return
        if fault == "drop" or not riak._sleep(fault == "stall"):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif fault == "fail":
            self._answer(503, b"Service Unavailable\n", {"Content-Type": "text/plain"})
        else:
            self._answer(*self._route(riak.store, body))

    def _read_body(self):
        """Return the request body, or None if the connection closed before all of it came."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            try:
                while size := int(self.rfile.readline().split(b";")[0], 16):
                    chunk = self.rfile.read(size)
                    if len(chunk) < size:
                        return None
                    chunks.append(chunk)
                    self.rfile.readline()
            except ValueError:  # a chunk-size line cut short
                return None
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        return body if len(body) == length else None

    def _answer(self, status, body=b"", headers=None):
        self.send_response(status, self._REASONS.get(status))
        for name, value in (headers or {}).items():
            if isinstance(value, list):
                for item in value:
                    self.send_header(name, item)
            else:
                self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def _route(self, store, body):
        raw_path, _, query = self.path.partition("?")
        params = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            params.setdefault(name, value)
        parts = raw_path.split("/")[1:]
        if parts == ["ping"]:
            return 200, b"OK", {"Content-Type": "text/html"}
        if parts[:1] == ["buckets"]:
            parts = ["types", "default", *parts]
        if len(parts) < 5 or parts[0] != "types" or parts[2] != "buckets":
            return 404, _NO_ROUTE, {"Content-Type": "text/html"}
        btype, bucket = unquote_plus(parts[1]), unquote_plus(parts[3])
        rest = parts[4:]
        if rest == ["props"]:
            return self._props(store, btype, bucket, body)
        if rest == ["keys"] and self.command in ("GET", "HEAD"):
            return self._list_keys(store, btype, bucket, params)
        if rest[0] == "keys" and len(rest) == 2:
            return self._object(store, btype, bucket, unquote_plus(rest[1]), params, body)
        if rest[0] == "keys" and len(rest) > 2 and self.command in ("GET", "HEAD"):
            # An unencoded "/" after the key makes it a link-walk query.
            return 400, _LINK_WALK, {"Content-Type": "text/plain"}
        return 405, b"", {"Allow": "GET, HEAD"}

    def _props(self, store, btype, bucket, body):
        props = store.bucket_props(btype, bucket)
        if props is None:
            return _unknown_type(btype)
        if self.command in ("GET", "HEAD"):
            answer = json.dumps({"props": {"name": bucket, **dict(sorted(props.items()))}},
                                separators=(",", ":"))
            return 200, answer.encode(), {"Content-Type": "application/json"}
        if self.command != "PUT":
            return 405, b"", {"Allow": "GET, HEAD, PUT, DELETE"}
        content_type = self.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            return 415, b"", {"Content-Type": "text/html"}
        try:
            new_props = json.loads(body)["props"]
            if not isinstance(new_props, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return 400, b'{"error":"Invalid JSON bucket properties"}\n', {
                "Content-Type": "application/json"}
        store.set_bucket_props(btype, bucket, new_props)
        return 204, b"", {"Content-Type": "application/json"}

    def _list_keys(self, store, btype, bucket, params):
        if store.bucket_props(btype, bucket) is None:
            return _unknown_type(btype)
        if params.get("keys") != "true":
            return 400, b"keys parameter must be true (stream is not served here)\n", {
                "Content-Type": "text/plain"}
        answer = json.dumps({"keys": store.keys(btype, bucket)}, separators=(",", ":"))
        return 200, answer.encode(), {"Content-Type": "application/json"}

    def _object(self, store, btype, bucket, key, params, body):
        method = "PUT" if self.command == "POST" else self.command
        request_type = _content_type(self.headers.get("Content-Type"))
        if method == "PUT" and request_type is None:
            return 400, b"Missing Content-Type request header", {"Content-Type": "text/plain"}
        malformed = _malformed_params(params)
        if malformed:
            return 400, malformed, {"Content-Type": "text/plain"}
        props = store.bucket_props(btype, bucket)
        if props is None:
            return _unknown_type(btype)
        violated = any(params.get(name, "").lstrip("+-").isdigit()
                       and int(params[name]) > props["n_val"] for name in _CHECKED_BY[method])
        location = (store, btype, bucket, key)
        if method in ("GET", "HEAD"):
            return self._fetch(location, props, violated)
        offered = request_type if method == "PUT" else "text/html"
        if choose_media_type([offered], self.headers.get("Accept")) is None:
            return 406, _NOT_ACCEPTABLE, {"Content-Type": "text/html"}
        headers = {"Content-Type": offered}
        vclock = self.headers.get("X-Riak-Vclock")
        try:
            context = None if vclock is None else decode_vclock(vclock)
        except ValueError as error:
            return 500, _internal_error(error), {"Content-Type": "text/html"}
        if violated:
            return 400, _n_val_violation(props), headers
        try:
            if method == "DELETE":
                if store.delete(btype, bucket, key, context) is None:
                    return 404, _NOT_FOUND, {"Content-Type": "text/plain"}
                return 204, b"", headers
            meta = [(name, value) for name, value in self.headers.items()
                    if name.lower().startswith("x-riak-meta-")]
            written = store.put(btype, bucket, key, context, body, request_type, meta)
        except TooManySiblings as error:
            return 500, b"Error:\n{too_many_siblings,%d}\n" % error.args[0], {
                "Content-Type": "text/plain"}
        if params.get("returnbody") != "true":
            return 204, b"", headers
        if len(written.siblings) == 1:
            return self._single(bucket, written, written.siblings[0])
        # With returnbody, Riak offers multipart first but only when an Accept header exists.
        accept = self.headers.get("Accept")
        multipart = accept and choose_media_type(
            ["multipart/mixed", "text/plain"], accept) == "multipart/mixed"
        return self._siblings(bucket, written, multipart)

    def _fetch(self, location, props, violated):
        if violated:
            # Raised while fetching, before content negotiation: no Content-Type.
            return 400, _n_val_violation(props), {}
        snapshot = location[0].get(*location[1:])
        if snapshot is None:
            return 404, _NOT_FOUND, {"Content-Type": "text/plain"}
        if snapshot.deleted:
            return 404, _NOT_FOUND, {"X-Riak-Vclock": snapshot.vclock,
                                     "X-Riak-Deleted": "true", "Content-Type": "text/plain"}
        accept = self.headers.get("Accept")
        bucket = location[2]
        if len(snapshot.siblings) == 1:
            only = snapshot.siblings[0]
            if choose_media_type([only.content_type], accept) is None:
                return 406, _NOT_ACCEPTABLE, {"Content-Type": "text/html"}
            status, body, headers = self._single(bucket, snapshot, only)
            headers["Vary"] = "Accept-Encoding"
        else:
            chosen = choose_media_type(["text/plain", "multipart/mixed"], accept)
            if chosen is None:
                return 406, _NOT_ACCEPTABLE, {"Content-Type": "text/html"}
            status, body, headers = self._siblings(bucket, snapshot, chosen == "multipart/mixed")
            headers["Vary"] = "Accept, Accept-Encoding"
        encodings = ["identity", "gzip"]
        if choose_media_type(encodings, self.headers.get("Accept-Encoding")) == "gzip":
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        return status, body, headers

    def _single(self, bucket, snapshot, sibling):
        headers = {"X-Riak-Vclock": snapshot.vclock, "Link": _up_link(bucket),
                   "Last-Modified": _http_date(sibling.modified),
                   "ETag": f'"{sibling.vtag}"', "Content-Type": sibling.content_type}
        for name, value in sibling.meta:
            headers.setdefault(name, []).append(value)
        return 200, sibling.value, headers

    def _siblings(self, bucket, snapshot, multipart):
        etag = _base62(int.from_bytes(hashlib.md5(snapshot.vclock.encode()).digest(), "big"))
        headers = {"X-Riak-Vclock": snapshot.vclock,
                   "Last-Modified": _http_date(max(s.modified for s in snapshot.siblings)),
                   "ETag": f'"{etag}"'}
        if not multipart:
            vtags = "".join(f"{s.vtag}\n" for s in snapshot.siblings)
            headers["Content-Type"] = "text/plain"
            return 300, f"Siblings:\n{vtags}".encode(), headers
        boundary = _unique_id(160)
        parts = []
        for sibling in snapshot.siblings:
            lines = [f"Content-Type: {sibling.content_type or 'application/octet-stream'}",
                     f"Link: {_up_link(bucket)}", f"Etag: {sibling.vtag}",
                     f"Last-Modified: {_http_date(sibling.modified)}"]
            lines += ["X-Riak-Deleted: true"] if sibling.deleted else []
            lines += [f"{name}: {value}" for name, value in sibling.meta]
            head = "".join(f"{line}\r\n" for line in lines)
            parts.append(f"\r\n--{boundary}\r\n{head}\r\n".encode("latin-1") + sibling.value)
        headers["Content-Type"] = f"multipart/mixed; boundary={boundary}"
        return 300, b"".join(parts) + f"\r\n--{boundary}--\r\n".encode(), headers


def _content_type(header):
    """Riak keeps a media type and a charset, and drops any other parameter."""
    if header is None:
        return None
    media, *params = [part.strip() for part in header.split(";")]
    charsets = [p.partition("=")[2] for p in params if p.lower().startswith("charset=")]
    return f"{media}; charset={charsets[0]}" if charsets else media


def _malformed_params(params):
    for name in _QUORUM_PARAMS:
        value = params.get(name, "default")
        if value not in _QUORUM_WORDS and not re.fullmatch(r"[+-]?\d+", value):
            return (f"{name} query parameter must be an integer or one of the following "
                    f"words: 'one', 'quorum' or 'all'\n").encode()
    timeout = params.get("timeout", "0")
    if not re.fullmatch(r"[+-]?\d+", timeout):
        return f'Bad timeout value "{timeout}"\n'.encode()
    return None


def _n_val_violation(props):
    return (f"Specified w/dw/pw/node_confirms values invalid for bucket n value of "
            f"{props['n_val']}\n").encode()


def _unknown_type(btype):
    return 404, f"Unknown bucket type: {btype}".encode(), {"Content-Type": "text/plain"}


def _internal_error(error):
    return ("<html><head><title>500 Internal Server Error</title></head><body><h1>Internal "
            "Server Error</h1>The server encountered an error while processing this request:"
            f"<br><pre>{error}</pre>" + _ADDRESS).encode()


def _up_link(bucket):
    return f'</buckets/{quote_plus(bucket)}>; rel="up"'


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        pass  # clients vanish on purpose in fault tests (drops, stalls, down()).


class RiakTestServer:
    """A Riak KV node on loopback, with deterministic fault knobs.

    Knobs count requests (1-based, every request counts): ``fail_every=N`` answers 503 to
    every Nth, ``drop_every=N`` closes every Nth connection unanswered and unapplied,
    ``stall_every=N`` sleeps ``stall_seconds`` before applying and answering every Nth;
    ``fail_next``/``drop_next``/``stall_next`` do the same to the next few requests.
    ``latency`` seconds are added to every request, outside the store lock.
    """

    def __init__(self, host="127.0.0.1", port=0, *, bucket_types=None, max_siblings=100,
                 reap_after=3.0):
        self.host, self.port = host, port
        self._bucket_types = {"timak": {}} if bucket_types is None else dict(bucket_types)
        self._limits = (max_siblings, reap_after)
        self.store = RiakStore(self._bucket_types, max_siblings, reap_after)
        self._lock = threading.Lock()
        self._connections = set()
        self._httpd = self._thread = None
        self.reset_faults()
        self.requests = 0

    url = property(lambda self: f"http://{self.host}:{self.port}")
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
                self._httpd = _HTTPServer((self.host, self.port), _Handler)
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

    def reset_faults(self):
        """Clear every fault knob and restore max_siblings and reap_after."""
        self.store.max_siblings, self.store.reap_after = self._limits
        self.latency = 0.0
        self.fail_every = self.drop_every = self.stall_every = 0
        self.stall_seconds = 5.0
        self._next = {"drop": 0, "fail": 0, "stall": 0}

    def fail_next(self, count=1):
        self._next["fail"] += count

    def drop_next(self, count=1):
        self._next["drop"] += count

    def stall_next(self, count=1):
        self._next["stall"] += count

    def add_bucket_type(self, name, **props):
        """Create a bucket type (allow_mult and dvv_enabled default to true, as in Riak)."""
        self.store.add_bucket_type(name, **props)

    def sibling_count(self, bucket_type, bucket, key):
        """Values (tombstones included) stored under the key; 0 when there is none."""
        return self.store.sibling_count(bucket_type, bucket, key)

    def _fault(self):
        with self._lock:
            self.requests += 1
            number = self.requests
            for fault, every in (("drop", self.drop_every), ("fail", self.fail_every),
                                 ("stall", self.stall_every)):
                if self._next[fault]:
                    self._next[fault] -= 1
                    return fault
                if every and number % every == 0:
                    return fault
        return None

    def _sleep(self, stall):
        """Wait out latency (and a stall); False when the node went down meanwhile."""
        delay = self.latency + (self.stall_seconds if stall else 0.0)
        if delay:
            time.sleep(delay)
        return self.is_up

    def _track(self, connection, open_):
        with self._lock:
            (self._connections.add if open_ else self._connections.discard)(connection)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8098)
    args = parser.parse_args()
    with RiakTestServer(args.host, args.port) as server:
        print(f"Riak test server on {server.url} (Ctrl-C stops it)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
