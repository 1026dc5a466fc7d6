"""``manage.py rebuild_timelines``: rebuild declared timelines from the database.

Timelines are derived data: this repairs any of them (after a store outage, a
``QuerySet.update()``, ``loaddata``). The work is ``django_timak.rebuild``'s: rows
newest first, in chunks of ``--batch-size``, at most a key's capacity written to each
key, appended without reading; this module reads the arguments, draws the progress,
prints the summary and prunes (``--prune``).
"""

import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from ...clock import default_clock
from ...conf import fanout_settings
from ...declarations import TimelineMixin
from ...erasure import listed_timeline_keys
from ...handler import timelines
from ...operations import DELETE, Operation, apply_operations
from ...rebuild import BATCH_SIZE, Rebuild, passes
from ...refs import parse_ref

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Rebuild the timelines declared by TimelineFields from the database."

    def add_arguments(self, parser):
        parser.add_argument("models", nargs="*", metavar="app_label[.Model]", help="Models, or apps, to rebuild (default: all).")
        parser.add_argument("--timeline", metavar="NAME", help="Rebuild only the fields of this TIMAK_TIMELINES alias.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help=f"Rows read per batch, with one recipients query per field (default {BATCH_SIZE:,}).",
        )
        parser.add_argument("--clear", action="store_true", help="Empty each affected key before its first write.")
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Then delete, on every stored key, the items of these models' rows that no longer map to it.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Compute the items and keys; write nothing.")

    def handle(self, *, models, timeline, batch_size, clear, prune, dry_run, verbosity, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if timeline is not None and timeline not in timelines:
            raise CommandError(f"--timeline {timeline!r} is not an alias of TIMAK_TIMELINES")
        plan = self.plan(models, timeline)
        listed = self.listed_keys(plan) if prune else {}
        self.verbosity, self.progress = verbosity, verbosity >= 1 and self.stdout.isatty()
        self.workers = fanout_settings()["WORKERS"]
        engine = Rebuild(
            batch_size=batch_size, clear=clear, dry_run=dry_run, workers=self.workers, on_error=self.report_error
        )
        started = time.monotonic()
        rows = items = batches = 0
        for model, fields in plan:
            counts = self.rebuild(engine, model, fields)
            rows, items, batches = (a + b for a, b in zip((rows, items, batches), counts))
        elapsed = time.monotonic() - started
        failed = engine.failed
        if verbosity >= 1:
            verb = "Would write" if dry_run else "Wrote"
            cleared = f", {'would clear' if dry_run else 'cleared'} {len(engine.cleared)} keys" if clear else ""
            self.stdout.write(
                self.style.SUCCESS(
                    f"{verb} {items} items from {rows} rows of {len(plan)} model(s) to {len(engine.keys)} keys"
                    f" in {batches} batches{cleared} ({elapsed:.1f}s)."
                )
            )
        if prune:
            failed += self.prune(plan, listed, batch_size, dry_run)
        if engine.skipped:
            shown = ", ".join(f"{alias}:{key!r}" for alias, key in sorted(engine.skipped)[:10])
            self.stdout.write(
                self.style.WARNING(
                    f"Skipped {len(engine.skipped)} key(s) that cannot be stored (too long, or control characters): {shown}"
                )
            )
        if failed:
            raise CommandError(f"{failed} key writes failed (see the errors above); run the command again to retry them.")

    def plan(self, labels, alias):
        """Return ``[(model, fields)]`` to rebuild; name what is wrong in a CommandError."""
        if labels:
            # An app label and one of its models, or a label given twice, name each model once.
            models = list(dict.fromkeys(model for label in labels for model in self.models_of(label)))
        else:
            models = timeline_models(apps.get_models())
        plan = []
        for model in models:
            declared = model.timeline_fields() if issubclass(model, TimelineMixin) else ()
            if labels and not declared:
                raise CommandError(f"{model._meta.label} declares no TimelineField")
            fields = [f for f in declared if alias is None or f.timeline == alias]
            if fields:
                plan.append((model, fields))
        if not plan:
            raise CommandError("no TimelineField matches" + (f" --timeline {alias!r}" if alias else ""))
        return plan

    def models_of(self, label):
        """Return the model ``app_label.Model`` names, or every timeline model of app ``app_label``."""
        if "." in label:
            try:
                return [apps.get_model(label)]
            except (LookupError, ValueError) as e:
                raise CommandError(f"{e} (models are named app_label.Model)") from e
        try:
            app = apps.get_app_config(label)
        except LookupError as e:
            raise CommandError(f"no installed app has the label {label!r} (models are named app_label.Model, apps by their label)") from e
        found = [m for m in timeline_models(app.get_models()) if m.timeline_fields()]
        if not found:
            raise CommandError(f"app {label!r} has no model that declares a TimelineField")
        return found

    def rebuild(self, engine, model, fields):
        """Rebuild one model's fields; return (rows, items, batches)."""
        total = model._base_manager.count() * len(passes(model, fields)) if self.progress else None
        started = time.monotonic()
        if self.progress:
            engine.on_chunk = lambda model, done: self.draw(model, done, total, started)
        rows, items, batches = engine.model(model, fields)
        if self.progress:
            self.stdout.write("")
        if self.verbosity >= 2:
            self.stdout.write(f"{model._meta.label}: {rows} rows, {items} items")
        return rows, items, batches

    def report_error(self, alias, key, error):
        self.stderr.write(self.style.ERROR(f"{alias}:{key!r}: {error}"))

    def listed_keys(self, plan):
        """Return ``{alias: stored keys}`` of the plan's aliases; refuse a store that cannot list them."""
        listed = {}
        for alias in sorted({field.timeline for _, fields in plan for field in fields}):
            listed[alias] = listed_timeline_keys(timelines[alias])
            if listed[alias] is None:
                store = type(timelines[alias].backend).__name__
                raise CommandError(
                    f"--prune reads every key stored in timeline {alias!r}, and its store ({store}) cannot list"
                    " its keys (listing keys walks a whole Riak cluster); repair known keys with --clear instead"
                )
        return listed

    def prune(self, plan, listed, batch_size, dry_run):
        """Delete the items of the plan's rows from stored keys they no longer map to; return failed writes."""
        by_model = {}  # a row's reference names its concrete model
        for model, fields in plan:
            by_model.setdefault(model._meta.concrete_model, (model, []))[1].extend(fields)
        removed, keys, failed = 0, set(), 0
        for alias, stored in listed.items():
            for start in range(0, len(stored), batch_size):
                operations = self.strays(alias, stored[start : start + batch_size], by_model, batch_size)
                removed += len(operations)
                keys.update((alias, op.key) for op in operations)
                if self.verbosity >= 2:
                    for key in sorted({op.key for op in operations}):
                        count = sum(op.key == key for op in operations)
                        self.stdout.write(f"{alias}:{key!r}: {'would remove' if dry_run else 'removed'} {count} item(s)")
                if not dry_run:
                    failed += self.apply(operations)
        if self.verbosity >= 1:
            verb = "Would remove" if dry_run else "Removed"
            self.stdout.write(
                self.style.SUCCESS(f"{verb} {removed} item(s) from {len(keys)} key(s) their rows no longer map to.")
            )
        return failed

    def strays(self, alias, keys, by_model, batch_size):
        """Return the deletes of the items on ``keys`` whose row is gone or no longer maps there."""
        found = {key: [e.id for e in timelines[alias].get(key, raw=True)] for key in keys}
        wanted = {}
        for ids in found.values():
            for model, pk in filter(None, map(parse_ref, ids)):
                if model in by_model:
                    wanted.setdefault(model, set()).add(pk)
        # Stamped before the rows are read: a save racing the prune stamps later, and wins.
        modified = default_clock.now()
        mapped = {}  # (concrete model, pk) -> keys of alias, for the rows that still exist
        for concrete, pks in wanted.items():
            model, fields = by_model[concrete]
            pks = sorted(pks)
            for start in range(0, len(pks), batch_size):
                rows = list(model._base_manager.filter(pk__in=pks[start : start + batch_size]))
                mapped.update(((concrete, row.pk), set()) for row in rows)
                for field in fields:
                    if field.timeline == alias:
                        for pk, row_keys in field.keys_many(rows).items():
                            mapped[concrete, pk].update(row_keys)
        return [
            Operation(alias, key, DELETE, item_id, None, None, modified)
            for key, ids in found.items()
            for item_id, parsed in zip(ids, map(parse_ref, ids))
            if parsed is not None and parsed[0] in by_model and key not in mapped.get(parsed, ())
        ]

    def apply(self, operations):
        """Apply operations; report and count the failed writes."""
        failures = apply_operations(operations, self.workers)
        for ops, error in failures:
            self.stderr.write(self.style.ERROR(f"{ops[0].timeline}:{ops[0].key!r}: {error}"))
        return len(failures)

    def draw(self, model, done, total, started):
        """Redraw the progress line in place (only on a terminal)."""
        rate = done / max(time.monotonic() - started, 1e-9)
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self.stdout.write(f"\r{model._meta.label} [{bar}] {done}/{total} rows {rate:,.0f} rows/s", ending="")
        self.stdout.flush()


def timeline_models(models):
    """Return the concrete (not proxy) TimelineMixin models among ``models``."""
    return [m for m in models if issubclass(m, TimelineMixin) and not m._meta.proxy]
