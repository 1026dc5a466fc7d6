"""django_timak.testing.riak as a user meets it: the example in its docstring runs and passes."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import django_timak.testing.riak

ROOT = Path(__file__).parents[1]


def docstring_example():
    """Return the code block of the module docstring (the one after ``::``)."""
    doc = django_timak.testing.riak.__doc__
    block = doc.split("::\n\n", 1)[1].split("\n\n``", 1)[0]
    return textwrap.dedent(block)


@pytest.mark.subprocess
def test_the_docstring_example_passes_under_pytest(tmp_path):
    example = tmp_path / "test_users_riak.py"
    example.write_text(docstring_example())
    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(example), "-q", "-c", str(ROOT / "setup.cfg"), "--rootdir", str(ROOT),
         "-p", "no:cacheprovider"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "1 passed" in run.stdout
