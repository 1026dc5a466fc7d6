"""Run the library's synchronous logic from a coroutine, its I/O awaited on the event loop.

The merge, the retries on a conflict, the failover over Riak nodes: each is written
once, as synchronous code. ``run`` calls that code in a greenlet; where it reaches
the store it calls ``wait(awaitable)``, which switches back to the coroutine that
started it, awaits there, and resumes the synchronous code with the result (or
raises the error into it). No thread is held while the store answers, and the sync
and async APIs cannot drift apart: they are the same code. SQLAlchemy's asyncio
extension bridges its ORM the same way.

``greenlet`` (the ``async`` extra) is imported on the first call, never at import.
"""

import sys

_classes = {}


def _greenlet_class():
    cls = _classes.get("green")
    if cls is None:
        try:
            import greenlet
        except ImportError as e:
            raise ImportError(
                "django-timak's async API needs greenlet: pip install 'django-timak[async]'"
            ) from e

        class Green(greenlet.greenlet):
            """A greenlet that knows the greenlet of the coroutine awaiting for it."""

            def __init__(self, function, driver):
                super().__init__(function, driver)
                self.driver = driver

        cls = _classes["green"] = Green
    return cls


def _current():
    import greenlet

    return greenlet.getcurrent()


def running() -> bool:
    """Return True inside synchronous code that ``run`` called (where ``wait`` may be called)."""
    return "green" in _classes and isinstance(_current(), _classes["green"])


def wait(awaitable):
    """Return the result of ``awaitable``, awaited by the coroutine that ``run`` this code."""
    if not running():
        close = getattr(awaitable, "close", None)
        if close is not None:
            close()  # no "coroutine was never awaited" warning
        raise RuntimeError("wait() is only for code that django_timak.bridge.run() called")
    return _current().driver.switch(awaitable)


async def run(function, *args, **kwargs):
    """Return ``function(*args, **kwargs)``, awaiting each ``wait()`` it makes on this event loop."""
    green = _greenlet_class()(function, _current())
    result = green.switch(*args, **kwargs)
    while not green.dead:
        try:
            value = await result
        except BaseException:
            result = green.throw(*sys.exc_info())
        else:
            result = green.switch(value)
    return result
