"""The Riak test server in a process of its own, as a real node would be.

In the benchmark's own process the server's threads would take the GIL from the
client being measured, so it runs as ``python -m django_timak.testing.riak``.
"""

import subprocess
import sys
from contextlib import contextmanager


@contextmanager
def riak_node(latency: float):
    """Yield the URL of a Riak test server adding ``latency`` seconds to each request."""
    child = subprocess.Popen(
        [sys.executable, "-m", "django_timak.testing.riak", "--port", "0", "--latency", str(latency)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        # "Riak test server on http://127.0.0.1:PORT (Ctrl-C stops it)"
        yield child.stdout.readline().split()[4]
    finally:
        child.terminate()
        child.wait(timeout=30)
