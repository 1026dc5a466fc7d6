"""Riak over HTTP from async code, with aiohttp: no thread is held while a node answers.

The sync ``Transport`` decides everything (the node in turn, failover, the deadline of
``timeout * (retries + 1)``, the backoff, what may be sent again) and ``RiakBackend``
reads the answers (siblings, vclocks, Riak's errors): ``AsyncRiak`` runs that very
code through ``django_timak.bridge``, and only an attempt's HTTP exchange and the
backoff's pause are awaited here. So failures raise the same named errors, and the
sync and async stores share each node's down mark.

Why aiohttp: it is the asyncio HTTP client of aio-libs, maintained since 2013, with
an HTTP parser in C, and it keeps its cost per request flat as requests pile up. httpx
(httpcore 1.0) was tried first: its pool re-examines every waiting request against
every connection, polling each idle socket, whenever a request starts or ends, so 100
concurrent reads took 0.5-4 s where aiohttp takes 40 ms (docs/benchmarks.rst, case
20). Each event loop gets its own sessions, closed by ``aclose()`` or, at the latest,
when the loop finalises its async generators (``asyncio.run`` does). aiohttp is
imported on the first async call, never at import.
"""

import asyncio
import copy
import functools
import ssl
from typing import NamedTuple
from urllib.parse import urlsplit

from ... import bridge
from ..base import Versioned
from .joined_reads import JoinedReads
from .transport import RETRY_STATUSES, Transport, _Failure


class Answer(NamedTuple):
    """What the backend reads of an HTTP answer, as urllib3's response offers it."""

    status: int
    reason: str
    headers: object
    data: bytes


class _LoopSessions:
    """One event loop's sessions (one per node) and the gates that bound each node's connections."""

    def __init__(self):
        self.sessions, self.gates = {}, {}
        # The loop finalises its async generators before it closes (PEP 525): this one
        # closes the sessions then, so no socket outlives its loop unclosed.
        self._finaliser = self._close_at_shutdown()

    async def start(self):
        await self._finaliser.__anext__()

    async def _close_at_shutdown(self):
        try:
            yield
        finally:
            await self.close()

    async def close(self):
        sessions, self.sessions = list(self.sessions.values()), {}
        for session in sessions:
            await session.close()


class AsyncTransport(Transport):
    """The sync transport's logic, each attempt awaited over an ``aiohttp`` session per node.

    ``pool_size`` connections per node and event loop (``ASYNC_POOL_SIZE``) at most; a
    request waits for a free one within the call's deadline.
    """

    #: The joined read (``joined_reads.Flight``) this transport's GET answers, closed as it is sent.
    _flight = None

    def __init__(self, transport: Transport, pool_size: int):
        self.__dict__.update(transport.__dict__)  # the same nodes: their down marks are shared
        self.pool_size = pool_size
        #: Sessions per event loop: connections belong to the loop that opened them.
        self._loops = {}

    def _sleep(self, seconds):
        bridge.wait(asyncio.sleep(seconds))

    def _attempt(self, node, method, target, headers, body, timeout, left, request):
        return bridge.wait(self._exchange(node, method, target, headers, body, timeout, left, request))

    async def _exchange(self, node, method, target, headers, body, timeout, left, request):
        """Return the answer of one node, or a _Failure saying what went wrong (as ``Transport._attempt``)."""
        import aiohttp
        import yarl

        try:
            session, gate = await self._session(node)
        except OSError as e:  # a TLS file that cannot be read, before any connection
            return _Failure(node, request, e, sent=False)
        try:
            if gate.locked():  # only then can it wait: a free connection is taken without a timer and a task
                await asyncio.wait_for(gate.acquire(), left)
            else:
                await gate.acquire()
        except asyncio.TimeoutError:
            error = _as_urllib3(TimeoutError(f"no free connection to the node within {left:g} s"))
            return _Failure(node, request, error, sent=False, blame=False)
        try:
            limits = aiohttp.ClientTimeout(sock_connect=min(self.connect_timeout, left), sock_read=min(timeout, left))
            # urllib3's default: answers are never compressed for us (Riak gzips for
            # clients that ask), the bytes are the stored value.
            sent = {"Accept-Encoding": "identity", **headers}
            # Sent as encoded: yarl would otherwise decode the key's %2E back into a dot.
            url = yarl.URL(_origin(node) + target, encoded=True)
            if self._flight is not None:
                self._flight.close()
            async with session.request(method, url, data=body, headers=sent, timeout=limits,
                                       allow_redirects=False) as response:
                answer = Answer(response.status, response.reason, response.headers, await response.read())
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as e:
            # Refused, unreachable, or the TLS handshake failed: the request never left.
            return _Failure(node, request, _as_urllib3(e), sent=False)
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            return _Failure(node, request, _as_urllib3(e))
        finally:
            gate.release()
        if answer.status in RETRY_STATUSES:
            return _Failure(node, request, response=answer)
        return answer

    async def _session(self, node):
        """Return this loop's session with ``node`` and the gate of its connections."""
        import aiohttp

        loop = asyncio.get_running_loop()
        sessions = self._loops.get(loop)
        if sessions is None:
            for closed in [other for other in self._loops if other.is_closed()]:
                del self._loops[closed]
            sessions = self._loops[loop] = _LoopSessions()
            await sessions.start()
        session = sessions.sessions.get(node.url)
        if session is None:
            context = self._ssl_context() if node.address.tls else False
            session = sessions.sessions[node.url] = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ssl=context), trust_env=False,
            )
            sessions.gates[node.url] = asyncio.Semaphore(self.pool_size)
        return session, sessions.gates[node.url]

    def _ssl_context(self):
        context = ssl.create_default_context(cafile=self.tls.ca_file)
        if not self.tls.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.tls.client_cert:
            context.load_cert_chain(self.tls.client_cert, self.tls.client_key)
        return context

    async def aclose(self):
        """Close this event loop's connections."""
        sessions = self._loops.pop(asyncio.get_running_loop(), None)
        if sessions is not None:
            await sessions.close()


def _as_urllib3(error):
    """Return ``error`` as the urllib3 error the sync transport names in its messages (cause kept).

    The message is the deepest cause's (``[Errno 111] Connect call failed ...``), not
    aiohttp's summary of it.
    """
    import urllib3

    root = _root(error)
    said = str(root) if isinstance(root, OSError) and str(root) else str(error) or type(error).__name__
    if isinstance(root, ssl.SSLError) or isinstance(error, ssl.SSLError):
        found = urllib3.exceptions.SSLError(said)
    elif type(error).__name__ in ("ServerDisconnectedError", "ClientPayloadError", "ClientOSError",
                                  "ClientConnectionResetError"):
        found = urllib3.exceptions.ProtocolError(said)
    else:
        found = urllib3.exceptions.HTTPError(said)
    found.__cause__ = error
    return found


def _origin(node):
    return _origin_of(node.address.url)


@functools.lru_cache(maxsize=64)
def _origin_of(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _root(error):
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__
    return error


class AsyncRiak:
    """The async storage calls of ``RiakBackend``: its sync code, each HTTP exchange awaited."""

    def _async_transport(self) -> AsyncTransport:
        transport = self.__dict__.get("_async_transport_")
        if transport is None:
            transport = self.__dict__["_async_transport_"] = AsyncTransport(self._transport, self.async_pool_size)
        return transport

    async def _awaited(self, name, *args, flight=None):
        view = copy.copy(self)
        view._transport = self._async_transport()
        if flight is not None:
            view._transport = copy.copy(view._transport)
            view._transport._flight = flight
        return await bridge.run(getattr(view, name), *args)

    async def aread(self, key):
        """Return the key's siblings, as ``read``; a concurrent read's GET not yet sent answers for both."""
        joined = self.__dict__.get("_joined_reads_")
        if joined is None:
            joined = self.__dict__["_joined_reads_"] = JoinedReads()
        found = await joined.read(key, lambda flight: self._awaited("read", key, flight=flight))
        return Versioned(list(found.values), found.token)

    async def awrite(self, key, value, token):
        return await self._awaited("write", key, value, token)

    async def adelete(self, key, token):
        return await self._awaited("delete", key, token)

    async def aappend(self, key, value):
        return await self._awaited("append", key, value)

    async def aping(self):
        return await self._awaited("ping")

    async def aread_many(self, keys):
        """Return every key's siblings, read concurrently (``async_pool_size`` at a time), as ``read_many``."""
        keys = list(dict.fromkeys(keys))
        return dict(zip(keys, await self._at_most_pool_size(self.aread, keys)))

    async def aappend_many(self, values):
        """Append every value concurrently (``async_pool_size`` at a time), as ``append_many``."""
        return dict(zip(values, await self._at_most_pool_size(self.aappend, list(values), list(values.values()))))

    async def _at_most_pool_size(self, function, *arguments):
        if len(arguments[0]) <= self.async_pool_size:
            return await asyncio.gather(*map(function, *arguments))
        gate = asyncio.Semaphore(self.async_pool_size)

        async def one(*args):
            async with gate:
                return await function(*args)

        return await asyncio.gather(*map(one, *arguments))

    async def aclose(self):
        """Close this event loop's connections and the sync pools."""
        if "_async_transport_" in self.__dict__:
            await self._async_transport().aclose()
        self.close()
