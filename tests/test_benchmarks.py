"""The benchmarks' smoke test: ``--quick`` runs every case and reports sane figures.

No timing is asserted (the machine is shared): only that each case produced its
rows, with positive medians, spreads around them, and ratios where floors exist.
"""

import json
import subprocess
import sys

import pytest

from tests.checkout import ROOT, checkout_env

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]
CASES = {"1 add": 3, "2 page(20)": 3, "3 merge": 4, "4 bytes/item": 3, "4 MAX_ITEMS < 100 KB": 3,
         "5 fan-out": 3, "6 home page": 3, "7 rebuild": 2, "7 rebuild peak": 2}
#: Case 8 on SQLite (the append, its compaction, amortised), on Riak, and its two page reads.
CASES["8 append"] = 6
#: Cases 9-11: deferred saves (RUN=task, and with the outbox), a rebuild over a follow graph, the demo's post.
CASES["9 deferred save"] = 2
CASES["10 rebuild graph"] = 2  # posts/s against the command before appends; the rebuild issue's size, in seconds
CASES["10 rebuild graph peak"] = 1
CASES["11 demo post"] = 1
#: Case 12: a pulled author's post; pages merging 10 sources of 100 and 1,000 items, hot and cold.
CASES["12 pulled post"] = 1
CASES["12 merged page"] = 4
#: Case 13 on memory and SQLite: an actor into a group, the append that compacts; the unread count.
CASES["13 group add"] = 4
CASES["13 unread count"] = 2
#: Case 15: a DRF page of 20 hydrated posts against TimelineView's JSON.
CASES["15 DRF page"] = 1
#: Case 16: ten posts batched against ten inline (keys/s); an inline post to 138 followers, mean and median.
CASES["16 batched posts"] = 1
CASES["16 inline post"] = 2
#: Case 17: a page of 20 at offset 0 and 980 against key bytes + hydration; PostgreSQL's COPY append.
CASES["17 partial page"] = 2
#: Case 19: a first page excluding 100 actors; erasing a user, and purging their items (keys/s).
CASES["19 exclusions"] = 1
CASES["19 erasure"] = 3  # and the purge of keys holding none of the erased
# Async page reads: under uvicorn (timak, a bare app, a Django view, timak on 2 workers), 100 apage at +20 and
# +0 ms, through sync_to_async, sync page().
CASES["20 async pages"] = 8


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("bench") / "quick.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--output", str(output)],
        cwd=ROOT, env=checkout_env(), capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, json.loads(output.read_text())


def test_every_case_has_its_rows(quick_run):
    table, document = quick_run
    counts = {}
    for row in document["rows"]:
        counts[row["case"]] = counts.get(row["case"], 0) + 1
    expected = dict(CASES)
    if any("postgresql" in row["variant"] for row in document["rows"]):
        expected["5 fan-out"] += 2
        expected["8 append"] += 3
        expected["13 group add"] += 2
        expected["13 unread count"] += 1
        expected["17 partial page"] += 2
        expected["17 COPY append"] = 1
    assert counts == expected
    for case in CASES:
        assert case in table


def test_figures_are_sane(quick_run):
    _, document = quick_run
    assert document["mode"] == "quick"
    for row in document["rows"]:
        value = row["value"]
        assert value["low"] <= value["median"] <= value["high"], row
        assert value["median"] > 0, row
        if row["floor"] is not None:
            assert row["floor"] > 0 and row["ratio"] > 0, row
        if row["target"]:
            assert row["met"] in (True, False), row
