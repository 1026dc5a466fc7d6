"""Riak KV's HTTP API over a RiakStore: the request handler behind the Riak test server.

Answers as ``tests/riak_transcripts.md`` records a Riak KV 3.2 node answering:
statuses, reasons, headers and body shapes, content negotiation (webmachine's), the
quirks (a link walk for an unencoded slash, a 406 for a single value asked for as
multipart only), and Riak security's refusals (401, 403, and 426 on plain HTTP, as
``riak_api_web_security`` answers them). Every answer carries a Content-Length.
"""

import base64
import gzip
import hashlib
import json
import re
import socket
import ssl
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote_plus, unquote_plus

from .riak_store import PropsRefused, TooManySiblings, base62, decode_vclock, unique_id

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
# Riak security (riak_api_web_security) on a plain HTTP listener.
_INSECURE = (b"Security is enabled and Riak does not accept credentials over HTTP. "
             b"Try HTTPS instead.")


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


class RiakRequestHandler(BaseHTTPRequestHandler):
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
        riak._busy(+1)
        try:
            self._serve_counted(riak)
        finally:
            riak._busy(-1)

    def _serve_counted(self, riak):
        fault = riak._fault(f"{self.command} {self.path}")
        body = self._read_body()
        if body is None:  # the client went away mid-request: like Riak, store nothing
            self.close_connection = True
            return
        if fault == "crash":
            self.close_connection = True
            riak.down()
        elif fault == "drop" or not riak._sleep(fault == "stall"):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif fault == "fail":
            self._answer(503, b"Service Unavailable\n", {"Content-Type": "text/plain"})
        else:
            self._answer(*(self._refusal(riak) or self._route(riak.store, body)))

    def _refusal(self, riak):
        """Riak security's answer to a request it refuses, or None (ping needs no credentials)."""
        if riak.users is None or self.path.partition("?")[0] == "/ping":
            return None
        if riak.tls is None:
            return 426, _INSECURE, {"Content-Type": "text/plain"}
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
        except ValueError:
            user = password = None
        if scheme.lower() != "basic" or riak.users.get(user) != password or password is None:
            return 401, b"", {"WWW-Authenticate": 'Basic realm="Riak"', "Content-Type": "text/html"}
        permission, where = _permission(self.command, self.path)
        if riak.grants is not None and permission not in riak.grants:
            text = f"Permission denied: User '{user}' does not have '{permission}' on {where}"
            return 403, text.encode(), {"Content-Type": "text/plain"}
        return None

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
        if len(parts) == 3 and parts[0] == "types" and parts[2] == "props" and self.command in ("GET", "HEAD"):
            props = store.type_props(unquote_plus(parts[1]))
            if props is None:
                return 404, _NO_ROUTE, {"Content-Type": "text/html"}
            answer = json.dumps({"props": props}, separators=(",", ":"))
            return 200, answer.encode(), {"Content-Type": "application/json"}
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
            # Unlike a key's, a missing type's props answer webmachine's generic page.
            return 404, _NO_ROUTE, {"Content-Type": "text/html"}
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
        try:
            store.set_bucket_props(btype, bucket, new_props)
        except PropsRefused as refused:
            answer = json.dumps(refused.args[0], separators=(",", ":"))
            return 400, answer.encode(), {"Content-Type": "application/json"}
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
            return self._fetch(location, props, violated, params.get("vtag"))
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

    def _fetch(self, location, props, violated, vtag):
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
        chosen = [s for s in snapshot.siblings if s.vtag == vtag] if vtag is not None else None
        if chosen == []:
            return 404, _NO_ROUTE, {"Content-Type": "text/html"}
        if chosen or len(snapshot.siblings) == 1:
            only = (chosen or snapshot.siblings)[0]
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
        etag = base62(int.from_bytes(hashlib.md5(snapshot.vclock.encode()).digest(), "big"))
        headers = {"X-Riak-Vclock": snapshot.vclock,
                   "Last-Modified": _http_date(max(s.modified for s in snapshot.siblings)),
                   "ETag": f'"{etag}"'}
        if not multipart:
            vtags = "".join(f"{s.vtag}\n" for s in snapshot.siblings)
            headers["Content-Type"] = "text/plain"
            return 300, f"Siblings:\n{vtags}".encode(), headers
        boundary = unique_id(160)
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


def _permission(method, path):
    """The Riak security permission a request needs, and the ``type/bucket`` it needs it on."""
    parts = path.partition("?")[0].split("/")[1:]
    if parts[:1] == ["buckets"]:
        parts = ["types", "default", *parts]
    where = "/".join(unquote_plus(p) for p in parts[1:4:2])
    if parts[-1:] == ["props"]:
        return ("riak_core.get_bucket" if method in ("GET", "HEAD") else "riak_core.set_bucket"), where
    if parts[-1:] == ["keys"]:
        return "riak_kv.list_keys", where
    return {"DELETE": "riak_kv.delete", "PUT": "riak_kv.put", "POST": "riak_kv.put"}.get(method, "riak_kv.get"), where


def _unknown_type(btype):
    return 404, f"Unknown bucket type: {btype}".encode(), {"Content-Type": "text/plain"}


def _internal_error(error):
    return ("<html><head><title>500 Internal Server Error</title></head><body><h1>Internal "
            "Server Error</h1>The server encountered an error while processing this request:"
            f"<br><pre>{error}</pre>" + _ADDRESS).encode()


def _up_link(bucket):
    return f'</buckets/{quote_plus(bucket)}>; rel="up"'


class RiakHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the connection's own thread: a client that never
        # finishes it (plain HTTP to a TLS node) holds up no one else.
        context = self.riak.tls_context
        if context is not None:
            try:
                request = context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                request.close()
                return
        try:
            super().finish_request(request, client_address)
        finally:
            if context is not None:  # the server closes the plain socket, which the TLS one replaced
                self.shutdown_request(request)

    def handle_error(self, request, client_address):
        pass  # clients vanish on purpose in fault tests (drops, stalls, down()).
