"""The example project's own smoke tests, run as part of this suite.

The example project is a Django project of its own (its settings, its custom user
model, its URLs), so its tests cannot run under ``tests.settings`` in this process:
they run with ``manage.py test`` in a subprocess, exactly as a developer runs them
from ``example_project/``, on the django_timak of this checkout.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANAGE = ROOT / "example_project" / "manage.py"


def example_env(**extra) -> dict:
    """Return the environment the example project runs in: this checkout first on the path."""
    env = {key: value for key, value in os.environ.items() if key not in ("DJANGO_SETTINGS_MODULE", "TIMAK_RIAK_URL")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**env, **extra}


def test_example_project_smoke_tests():
    result = subprocess.run(
        [sys.executable, str(MANAGE), "test", "social", "--noinput", "-v", "2"],
        cwd=ROOT,
        env=example_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"the example project's tests failed:\n{result.stdout}\n{result.stderr}"
    assert "Ran 0 tests" not in result.stderr
