"""The example project's own smoke tests, run as part of this suite.

The example project is a Django project of its own (its settings, its custom user
model, its URLs), so its tests cannot run under ``tests.settings`` in this process:
they run with ``manage.py test`` in a subprocess, exactly as a developer runs them
from ``example_project/``, on the django_timak of this checkout.
"""

import subprocess
import sys

import pytest

from tests.checkout import MANAGE, ROOT, example_env


@pytest.mark.subprocess
@pytest.mark.slow
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
