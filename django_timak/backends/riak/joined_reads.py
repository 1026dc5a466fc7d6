"""Concurrent async reads of one key share one GET, if it has not been sent yet.

Every page reads the store-wide erasure record beside its key, so 100 pages at once
were 200 GETs, half of them asking the same thing. A read that starts while another
read's GET of the same key waits to be sent (for its task to run, or for a free
connection) takes that GET's answer instead of sending its own. The answer is then
never older than the read: the GET leaves after the read began, so it sees every
write acknowledged before that, exactly as the read's own GET would. Once the GET is
sent the read is closed to newcomers, who start the next one: nothing is cached
across reads. A joined read gets the same answer or the same error.
"""

import asyncio
import weakref


class Flight:
    """One GET of one key on one event loop, open to more readers until it is sent."""

    def __init__(self, flights: dict, key: str):
        self._flights, self._key = flights, key
        self.task = None

    def close(self) -> None:
        """Take no more readers: the request is about to leave (or the read is over)."""
        if self._flights.get(self._key) is self:
            del self._flights[self._key]


class JoinedReads:
    """The open flights of each event loop, by key."""

    def __init__(self):
        self._loops = weakref.WeakKeyDictionary()

    async def read(self, key: str, start):
        """Return the answer of the open flight of ``key``, else of ``start(flight)``, a new one."""
        loop = asyncio.get_running_loop()
        flights = self._loops.get(loop)
        if flights is None:
            flights = self._loops[loop] = {}
        flight = flights.get(key)
        if flight is None:
            flight = flights[key] = Flight(flights, key)
            flight.task = loop.create_task(start(flight))
            flight.task.add_done_callback(_finished(flight))
        # Shielded: a reader cancelled (a client gone) does not cancel the others' answer.
        return await asyncio.shield(flight.task)


def _finished(flight):
    def done(task):
        flight.close()
        if not task.cancelled():
            task.exception()  # retrieved: every reader that waited has it raised already

    return done
