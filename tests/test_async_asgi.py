"""The example project under an ASGI server: uvicorn serves its home page."""

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.checkout import MANAGE, ROOT, example_env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.subprocess
@pytest.mark.slow
def test_uvicorn_serves_the_demos_home_page(tmp_path):
    env = example_env(TIMAK_DEMO_DB=str(tmp_path / "demo.sqlite3"))
    subprocess.run([sys.executable, str(MANAGE), "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "demo.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=MANAGE.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    status, body, served = response.status, response.read().decode(), response.headers["server"]
                break
            except (ConnectionError, urllib.error.URLError):
                assert server.poll() is None, server.stdout.read().decode()
                time.sleep(0.1)
        else:
            pytest.fail("uvicorn did not answer")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert status == 200 and served == "uvicorn" and "<html" in body.lower()
