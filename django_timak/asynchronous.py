"""The async API of ``Timeline``: ``aget``, ``apage``, ``aadd``, ... (Django's cache framework's shape).

Each ``a`` method runs its sync method's own code (``django_timak.bridge``) with the
store's async calls awaited where the sync code reads or writes, so it has the same
arguments, results and errors, and the same read-merge-write, retries and
compaction. On a store with native async I/O (Riak) no thread is held while the store
answers; the other stores run their sync calls in Django's ORM thread.
"""

import asyncio
import copy

from . import bridge


class _AwaitingBackend:
    """A store whose sync calls await its async ones, for code that ``bridge.run`` called."""

    def __init__(self, backend):
        self._backend = backend

    def __getattr__(self, name):
        return getattr(self._backend, name)

    def read(self, key):
        return bridge.wait(self._backend.aread(key))

    def write(self, key, value, token):
        return bridge.wait(self._backend.awrite(key, value, token))

    def delete(self, key, token):
        return bridge.wait(self._backend.adelete(key, token))

    def read_many(self, keys):
        return bridge.wait(self._backend.aread_many(keys))

    def append(self, key, value):
        return bridge.wait(self._backend.aappend(key, value))

    def append_many(self, values):
        return bridge.wait(self._backend.aappend_many(values))


def _pause(seconds):
    """Back off on the event loop (a conflict's retry) instead of blocking it."""
    bridge.wait(asyncio.sleep(seconds))


async def _awaited(timeline, function):
    """Return ``function(view)``, where ``view`` is ``timeline`` with its store's I/O awaited."""
    view = copy.copy(timeline)
    view.backend = _AwaitingBackend(timeline.backend)
    view._pause = _pause
    return await bridge.run(function, view)


def _async_form(name):
    async def method(self, *args, **kwargs):
        return await _awaited(self, lambda view: getattr(view, name)(*args, **kwargs))

    method.__name__ = method.__qualname__ = f"a{name}"
    method.__doc__ = f"Async form of ``{name}()``: the same arguments, result and errors."
    return method


class AsyncTimeline:
    """The ``a``-prefixed forms of every public ``Timeline`` method."""

    aget = _async_form("get")
    apage = _async_form("page")
    aadd = _async_form("add")
    adelete = _async_form("delete")
    aadd_many = _async_form("add_many")
    adelete_many = _async_form("delete_many")
    aadd_and_delete = _async_form("add_and_delete")
    areplay = _async_form("replay")
    aclear = _async_form("clear")
    acopy_items = _async_form("copy_items")
    acatch_up = _async_form("catch_up")
    aremove_items = _async_form("remove_items")
    aappend_changes = _async_form("append_changes")
    aerase_actor = _async_form("erase_actor")
    aerased_actors = _async_form("erased_actors")
    apurge_actors = _async_form("purge_actors")
    apurge_actors_many = _async_form("purge_actors_many")
    #: The old names of ``aadd_and_delete`` and ``areplay``.
    aupdate = aadd_and_delete
    aapply = areplay

    async def amerged_entries(self, keys) -> list:
        """Async form of ``merged_entries()``: the entries as a list (read at once, as it reads)."""
        return await _awaited(self, lambda view: list(view.merged_entries(keys)))
