"""The entry point: run every case, print one table, write the JSON.

``python -m benchmarks`` runs the full sizes (several minutes); ``--quick`` runs
every case at small sizes in under two minutes, as the test suite's smoke test does.
"""

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .report import document, table

RESULTS = Path(__file__).parent / "results"


@dataclass(frozen=True)
class Config:
    """How much each case does: repetitions, and the data sizes of cases 5-7."""

    mode: str
    runs: int
    batch: int
    followers: int
    followed_items: int
    fanout_runs: int
    posts: tuple[int, ...]
    rebuild_posts: tuple[int, ...]
    #: Case 10's follow graph: users, follows per user, posts.
    graph_users: int
    graph_follows: int
    graph_posts: int
    #: Case 11's seeded demo: posts.
    demo_posts: int


FULL = Config("full", runs=15, batch=20, followers=10_000, followed_items=500, fanout_runs=3,
              posts=(1_000, 10_000, 100_000), rebuild_posts=(10_000, 100_000),
              graph_users=10_000, graph_follows=130, graph_posts=10_000, demo_posts=10_000)
QUICK = Config("quick", runs=5, batch=5, followers=200, followed_items=500, fanout_runs=3,
               posts=(1_000, 3_000, 10_000), rebuild_posts=(1_000, 3_000),
               graph_users=1_000, graph_follows=30, graph_posts=1_000, demo_posts=1_000)


def cases():
    """Return the case modules in table order (imported once Django is set up)."""
    from .cases import append, core, deferred, demo, fanout, reads, rebuild, rebuild_graph, size
    from .cases import pull
    from .cases import notifications
    from .cases import rest
    from .cases import fanout_posts
    from .cases import exclusions
    from .cases import partial
    from .cases import asynchronous

    # rebuild_graph replaces the users, follows and posts: it runs last.
    return [core, size, fanout, reads, rebuild, append, deferred, fanout_posts, demo, pull, notifications, rest, exclusions, partial, asynchronous, rebuild_graph]


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under two minutes")
    parser.add_argument("--only", metavar="CASE", action="append", help="run only these case modules (core, size, ...)")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json", help="where to write the JSON")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    config = QUICK if args.quick else FULL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    import django

    django.setup()
    from .databases import fresh_databases

    started = time.perf_counter()
    rows = []
    with fresh_databases():
        for case in cases():
            name = case.__name__.rsplit(".", 1)[-1]
            if args.only and name not in args.only:
                continue
            print(f"running {name}...", file=sys.stderr, flush=True)
            rows += case.run(config)
    seconds = time.perf_counter() - started
    print(table(rows))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(document(rows, config.mode, seconds) + "\n")
    print(f"{config.mode} run: {seconds:.0f} s; JSON in {args.output}", file=sys.stderr)
