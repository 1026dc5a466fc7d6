"""django_timak.testing.riak as a user meets it: the examples in its docstring and docs pass."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import django_timak.testing.riak

ROOT = Path(__file__).parents[1]


def docs_cluster_example():
    """Return the cluster example of docs/riak.rst (the code block after "To test all of this")."""
    text = (ROOT / "docs" / "riak.rst").read_text()
    block = text.split("To test all of this without a Riak", 1)[1].split(".. code-block:: python\n\n", 1)[1]
    lines = []
    for line in block.split("\n"):
        if line and not line.startswith("    "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines))


def run_under_pytest(code, folder):
    example = folder / "test_users_riak.py"
    example.write_text(code)
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(example), "-q", "-c", str(ROOT / "setup.cfg"), "--rootdir", str(ROOT),
         "-p", "no:cacheprovider"],
        capture_output=True, text=True, cwd=ROOT,
    )


def docstring_example():
    """Return the code block of the module docstring (the one after ``::``)."""
    doc = django_timak.testing.riak.__doc__
    block = doc.split("::\n\n", 1)[1].split("\n\n``", 1)[0]
    return textwrap.dedent(block)


@pytest.mark.subprocess
@pytest.mark.parametrize("example", [docstring_example, docs_cluster_example])
def test_the_documented_example_passes_under_pytest(tmp_path, example):
    run = run_under_pytest(example(), tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "1 passed" in run.stdout
