"""Riak over HTTP from async code, with httpx: no thread is held while a node answers.

The sync ``Transport`` decides everything (the node in turn, failover, the deadline of
``timeout * (retries + 1)``, the backoff, what may be sent again) and ``RiakBackend``
reads the answers (siblings, vclocks, Riak's errors): ``AsyncRiak`` runs that very
code through ``django_timak.bridge``, and only an attempt's HTTP exchange and the
backoff's pause are awaited here. So failures raise the same named errors, and the
sync and async stores share each node's down mark.

Why httpx: it is maintained by the authors of Starlette and Uvicorn, has one
``Timeout`` with connect, read, write and pool-wait bounds that map onto ours, takes
an ``ssl.SSLContext`` for CA files, client certificates and ``verify``, and keeps a
bounded connection pool per client; aiohttp would serve as well but brings its own
server framework. httpx is imported on the first async call, never at import.
"""

import asyncio
import copy
import ssl
import weakref
from typing import NamedTuple
from urllib.parse import urlsplit

from ... import bridge
from .transport import RETRY_STATUSES, Transport, _Failure


class Answer(NamedTuple):
    """What the backend reads of an HTTP answer, as urllib3's response offers it."""

    status: int
    reason: str
    headers: object
    data: bytes


class AsyncTransport(Transport):
    """The sync transport's logic, each attempt awaited over an ``httpx.AsyncClient`` per node."""

    def __init__(self, transport: Transport):
        self.__dict__.update(transport.__dict__)  # the same nodes: their down marks are shared
        #: Clients per event loop: a client's connections belong to the loop that opened them.
        self._clients = weakref.WeakKeyDictionary()

    def _sleep(self, seconds):
        bridge.wait(asyncio.sleep(seconds))

    def _attempt(self, node, method, target, headers, body, timeout, left, request):
        return bridge.wait(self._exchange(node, method, target, headers, body, timeout, left, request))

    async def _exchange(self, node, method, target, headers, body, timeout, left, request):
        """Return the answer of one node, or a _Failure saying what went wrong (as ``Transport._attempt``)."""
        import httpx

        try:
            client = self._client(node)
            response = await client.request(
                method, target, content=body, headers=headers,
                timeout=httpx.Timeout(
                    connect=min(self.connect_timeout, left), read=min(timeout, left), write=min(timeout, left), pool=left
                ),
            )
        except httpx.PoolTimeout as e:
            return _Failure(node, request, _as_urllib3(e), sent=False, blame=False)
        except (httpx.ConnectError, httpx.ConnectTimeout) as e:
            # Refused, unreachable, or the TLS handshake failed: the request never left.
            return _Failure(node, request, _as_urllib3(e), sent=False)
        except httpx.TransportError as e:
            return _Failure(node, request, _as_urllib3(e))
        except OSError as e:  # a TLS file that cannot be read, before any connection
            return _Failure(node, request, e, sent=False)
        answer = Answer(response.status_code, response.reason_phrase, response.headers, response.content)
        if answer.status in RETRY_STATUSES:
            return _Failure(node, request, response=answer)
        return answer

    def _client(self, node):
        import httpx

        clients = self._clients.setdefault(asyncio.get_running_loop(), {})
        client = clients.get(node.url)
        if client is None:
            parts = urlsplit(node.address.url)
            client = clients[node.url] = httpx.AsyncClient(
                base_url=f"{parts.scheme}://{parts.netloc}",
                verify=self._ssl_context() if node.address.tls else True,
                limits=httpx.Limits(max_connections=self.pool_size, max_keepalive_connections=self.pool_size),
                follow_redirects=False,
                trust_env=False,
            )
        return client

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
        clients = self._clients.pop(asyncio.get_running_loop(), {})
        for client in clients.values():
            await client.aclose()


def _as_urllib3(error):
    """Return ``error`` as the urllib3 error the sync transport names in its messages (cause kept).

    The message is the deepest cause's (``[Errno 111] Connect call failed ...``), not
    httpx's summary of it.
    """
    import urllib3

    root = _root(error)
    said = str(root) if isinstance(root, OSError) and str(root) else str(error) or type(error).__name__
    if isinstance(root, ssl.SSLError):
        found = urllib3.exceptions.SSLError(said)
    elif type(error).__name__ in ("RemoteProtocolError", "ReadError", "WriteError", "LocalProtocolError"):
        found = urllib3.exceptions.ProtocolError(said)
    else:
        found = urllib3.exceptions.HTTPError(said)
    found.__cause__ = error
    return found


def _root(error):
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__
    return error


class AsyncRiak:
    """The async storage calls of ``RiakBackend``: its sync code, each HTTP exchange awaited."""

    def _async_transport(self) -> AsyncTransport:
        transport = self.__dict__.get("_async_transport_")
        if transport is None:
            transport = self.__dict__["_async_transport_"] = AsyncTransport(self._transport)
        return transport

    async def _awaited(self, name, *args):
        view = copy.copy(self)
        view._transport = self._async_transport()
        return await bridge.run(getattr(view, name), *args)

    async def aread(self, key):
        return await self._awaited("read", key)

    async def awrite(self, key, value, token):
        return await self._awaited("write", key, value, token)

    async def adelete(self, key, token):
        return await self._awaited("delete", key, token)

    async def aappend(self, key, value):
        return await self._awaited("append", key, value)

    async def aping(self):
        return await self._awaited("ping")

    async def aread_many(self, keys):
        """Return every key's siblings, read concurrently (``pool_size`` at a time), as ``read_many``."""
        keys = list(dict.fromkeys(keys))
        return dict(zip(keys, await self._at_most_pool_size(self.aread, keys)))

    async def aappend_many(self, values):
        """Append every value concurrently (``pool_size`` at a time), as ``append_many``."""
        return dict(zip(values, await self._at_most_pool_size(self.aappend, list(values), list(values.values()))))

    async def _at_most_pool_size(self, function, *arguments):
        gate = asyncio.Semaphore(self.pool_size)

        async def one(*args):
            async with gate:
                return await function(*args)

        return await asyncio.gather(*map(one, *arguments))

    async def aclose(self):
        """Close this event loop's connections and the sync pools."""
        if "_async_transport_" in self.__dict__:
            await self._async_transport().aclose()
        self.close()
