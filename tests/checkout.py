"""This checkout's paths, and the environment its subprocesses run in."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANAGE = ROOT / "example_project" / "manage.py"


def checkout_env(**extra) -> dict:
    """Return an environment with this checkout first on the path and no test settings."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**env, **extra}


def example_env(**extra) -> dict:
    """Return the environment the example project runs in: on this checkout, on SQLite."""
    env = checkout_env()
    env.pop("TIMAK_RIAK_URL", None)
    return {**env, **extra}


def run_python(code: str, **extra) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter of this checkout; return what it did."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=checkout_env(**extra), capture_output=True, text=True, timeout=120)
