"""``manage.py timak_drain``: apply the outbox's pending row changes to the timelines."""

import signal
import time

from django.core.management.base import BaseCommand

from ... import outbox
from ..arguments import check_database, positive_int, seconds


class Command(BaseCommand):
    help = "Apply pending row changes from the outbox to the timelines; with --loop, keep doing so (a worker)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep draining until stopped (SIGTERM or Ctrl-C).")
        parser.add_argument("--interval", type=seconds, default=1.0, help="Seconds to sleep when nothing is due (with --loop).")
        parser.add_argument("--max-batches", type=positive_int, default=None, help="Stop after this many batches (without --loop).")
        parser.add_argument("--database", default=None, help="The database holding the outbox.")

    def handle(self, *args, loop, interval, max_batches, database, verbosity, **options):
        check_database(database)
        self._stopping = False
        if loop:
            signal.signal(signal.SIGTERM, self._stop)
            while not self._stopping:
                result = outbox.drain_all(using=database)
                self._report(result, verbosity, quiet_when_idle=True)
                if not result.applied:
                    time.sleep(interval)
            return
        result = outbox.drain_all(using=database, max_batches=max_batches)
        self._report(result, verbosity)
        left = outbox.status(using=database)
        if verbosity:
            self.stdout.write(f"{left.depth} change(s) still pending, {left.due} due now.")

    def _stop(self, signum, frame):
        self._stopping = True

    def _report(self, result, verbosity, quiet_when_idle=False):
        if quiet_when_idle and not (result.applied or result.failed):
            return
        if verbosity:
            self.stdout.write(self.style.SUCCESS(f"Applied {result.applied} change(s)."))
        if result.failed:
            self.stderr.write(self.style.ERROR(f"{result.failed} change(s) failed and will be retried:"))
            if verbosity > 1:
                for key, error in result.errors.items():
                    self.stderr.write(f"  {key!r}: {error}")
