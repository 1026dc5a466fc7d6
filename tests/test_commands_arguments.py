"""timak_drain and timak_status: bad arguments get a CommandError with a sentence; -v 0 is silent."""

import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("command", ["timak_drain", "timak_status"])
def test_an_unknown_database_is_named_in_a_command_error(command):
    with pytest.raises(CommandError, match=r"--database 'nope' is not in DATABASES \(there: .*default"):
        run(command, "--database", "nope")


@pytest.mark.parametrize("interval", ["-1", "nan", "soon"])
def test_a_negative_interval_is_refused_before_the_loop_starts(interval):
    with pytest.raises(CommandError, match="--interval: must be a number of seconds of at least 0"):
        run("timak_drain", "--loop", "--interval", interval)


@pytest.mark.parametrize("batches", ["0", "-1", "two"])
def test_max_batches_below_one_is_refused(batches):
    with pytest.raises(CommandError, match="--max-batches: must be a whole number of at least 1"):
        run("timak_drain", "--max-batches", batches)


def test_max_batches_of_one_drains():
    out, _ = run("timak_drain", "--max-batches", "1")
    assert "Applied 0 change(s)." in out


@pytest.mark.parametrize("command", ["timak_drain", "timak_status"])
def test_verbosity_zero_prints_nothing(command):
    assert run(command, "-v", "0") == ("", "")


def test_timak_status_still_prints_json_when_asked_at_verbosity_zero():
    out, _ = run("timak_status", "-v", "0", "--json")
    assert '"depth": 0' in out


@pytest.mark.subprocess
def test_on_the_command_line_a_bad_interval_is_one_sentence_and_no_traceback():
    done = subprocess.run(
        [sys.executable, "-m", "django", "timak_drain", "--loop", "--interval", "-1", "--settings", "tests.settings"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode != 0
    assert "must be a number of seconds of at least 0" in done.stderr
    assert "Traceback" not in done.stderr
