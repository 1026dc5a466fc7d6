"""The Riak test server in a process of its own, as a real node would be.

In the benchmark's own process the server's threads would take the GIL from the
client being measured. ``python -m benchmarks.riak_node LATENCY`` prints the URL,
then serves until its standard input closes.
"""

import subprocess
import sys
from contextlib import contextmanager


@contextmanager
def riak_node(latency: float):
    """Yield the URL of a Riak test server adding ``latency`` seconds to each request."""
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.riak_node", str(latency)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        yield child.stdout.readline().strip()
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def main():
    from tests.riak_server import RiakTestServer

    with RiakTestServer() as server:
        server.latency = float(sys.argv[1])
        print(server.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
