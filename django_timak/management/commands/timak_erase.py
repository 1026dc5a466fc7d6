"""``manage.py timak_erase REF``: erase an actor from every timeline, then rewrite the keys that held them.

The erasure record hides the actor's items from every read at once; the rewrite
(``erasure.purge``) then removes their data from each stored value, with progress.
Run it again at any time: erasing twice is harmless, and only values still holding them are rewritten.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from ...erasure import actor_ref, erase_actor, purge
from ...exceptions import InvalidTimelineInput, TimelineBackendError
from ...handler import timelines


class Command(BaseCommand):
    help = "Erase an actor ('app_label.model:pk') from every timeline: at once for reads, then from each stored value."

    def add_arguments(self, parser):
        parser.add_argument("ref", metavar="app_label.model:pk", help="The actor to erase, e.g. auth.user:42.")
        parser.add_argument("--timeline", metavar="NAME", help="Purge only this TIMAK_TIMELINES alias (all are erased).")
        parser.add_argument("--dry-run", action="store_true", help="Count the keys to rewrite; write nothing.")

    def handle(self, *, ref, timeline, dry_run, verbosity, **options):
        try:
            ref = actor_ref(ref)
        except InvalidTimelineInput as e:
            raise CommandError(str(e)) from e
        aliases = list(timelines)
        if timeline is not None:
            if timeline not in aliases:
                raise CommandError(f"unknown timeline {timeline!r}; configured: {', '.join(aliases)}")
            aliases = [timeline]
        try:
            if not dry_run:
                erase_actor(ref)
            for alias in aliases:
                self.purge_alias(ref, alias, dry_run, verbosity)
        except TimelineBackendError as e:
            raise CommandError(f"the store failed: {e}; run the command again, it resumes") from e

    def purge_alias(self, ref, alias, dry_run, verbosity):
        started = time.monotonic()
        step = 0

        def progress(done, total):
            nonlocal step
            if verbosity >= 2 and (done == total or done >= step):
                step = done + max(1, total // 20)
                self.stdout.write(f"  {alias}: {done}/{total} keys")

        result = purge(ref, alias, dry_run=dry_run, progress=progress)
        elapsed = time.monotonic() - started
        how = "stored keys" if result.listed else "keys its rows map to"
        if dry_run:
            self.stdout.write(f"{alias}: would rewrite up to {result.keys} key(s) ({how})")
            return
        if verbosity >= 1:
            rate = result.keys / elapsed if elapsed else result.keys
            self.stdout.write(self.style.SUCCESS(
                f"{alias}: erased {ref}; {result.rewritten} of {result.keys} key(s) ({how}) rewritten, {rate:.0f} keys/s"
            ))
        for key in result.skipped:
            self.stderr.write(self.style.ERROR(f"{alias}: {key!r} holds no timeline value; left as it is"))
