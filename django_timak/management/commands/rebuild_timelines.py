"""``manage.py rebuild_timelines``: rebuild declared timelines from the database.

Timelines are derived data: this repairs any of them (after a store outage, a
``QuerySet.update()``, ``loaddata``) by walking each model in primary-key order, a
batch at a time (memory is bounded by ``--batch-size``), asking each field's
recipients once per batch (``recipients_many``, where a field has it), and appending
to each key once per batch, without reading it. Every change carries the clock taken
before its batch was read, so running it twice, or again after an interruption,
gives the same visible timelines.
"""

import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from ...clock import default_clock
from ...conf import fanout_settings
from ...declarations import TimelineMixin
from ...erasure import listed_timeline_keys
from ...handler import timelines
from ...operations import ADD, DELETE, Operation, apply_operations, split_storable
from ...refs import make_ref, parse_ref
from ...row_operations import row_item

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Rebuild the timelines declared by TimelineFields from the database."

    def add_arguments(self, parser):
        parser.add_argument("models", nargs="*", metavar="app_label[.Model]", help="Models, or apps, to rebuild (default: all).")
        parser.add_argument("--timeline", metavar="NAME", help="Rebuild only the fields of this TIMAK_TIMELINES alias.")
        parser.add_argument("--batch-size", type=int, default=500, help="Rows read and written per batch (default 500).")
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
        self.cleared, self.keys, self.skipped = set(), set(), set()
        started = time.monotonic()
        rows = items = failed = batches = 0
        for model, fields in plan:
            counts = self.rebuild(model, fields, batch_size, clear, dry_run)
            rows, items, failed, batches = (a + b for a, b in zip((rows, items, failed, batches), counts))
        elapsed = time.monotonic() - started
        if verbosity >= 1:
            verb = "Would write" if dry_run else "Wrote"
            cleared = f", {'would clear' if dry_run else 'cleared'} {len(self.cleared)} keys" if clear else ""
            self.stdout.write(
                self.style.SUCCESS(
                    f"{verb} {items} items from {rows} rows of {len(plan)} model(s) to {len(self.keys)} keys"
                    f" in {batches} batches{cleared} ({elapsed:.1f}s)."
                )
            )
        if prune:
            failed += self.prune(plan, listed, batch_size, dry_run)
        if self.skipped:
            shown = ", ".join(f"{alias}:{key!r}" for alias, key in sorted(self.skipped)[:10])
            self.stdout.write(
                self.style.WARNING(
                    f"Skipped {len(self.skipped)} key(s) that cannot be stored (too long, or control characters): {shown}"
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

    def rebuild(self, model, fields, batch_size, clear, dry_run):
        """Walk one model in pk batches; return (rows, items, failed writes, batches)."""
        queryset = model._base_manager.order_by("pk")
        total = queryset.count() if self.progress else None
        rows = items = failed = batches = 0
        last_pk = None
        started = time.monotonic()
        while True:
            page = queryset if last_pk is None else queryset.filter(pk__gt=last_pk)
            # Stamped before the read: a save racing the rebuild stamps later, and wins.
            modified = default_clock.now()
            batch = list(page[:batch_size])
            if not batch:
                break
            last_pk = batch[-1].pk
            operations = self.operations(batch, fields, modified)
            failed += self.write(model, operations, clear, dry_run)
            if not dry_run:
                failed += self.forget_vanished(queryset, batch, operations)
            rows, items, batches = rows + len(batch), items + len(operations), batches + 1
            if self.progress:
                self.draw(model, rows, total, started)
        if self.progress:
            self.stdout.write("")
        if self.verbosity >= 2:
            self.stdout.write(f"{model._meta.label}: {rows} rows, {items} items")
        return rows, items, failed, batches

    def operations(self, batch, fields, modified):
        """Return the adds of one batch, all at the clock taken before it was read.

        Keys that cannot be stored are left out and remembered, to be named at the end.
        """
        found = []
        self.row_keys = {}  # row pk -> {(alias, key)}, for rows deleted while the batch is written
        for field in fields:
            keys_by_pk = field.keys_many(batch)
            for row in batch:
                keys = keys_by_pk.get(row.pk)
                item = row_item(row, field) if keys else None  # a row whose data cannot be stored is skipped
                if item:
                    item_id, score, data, actor = item
                    found.extend(Operation(field.timeline, k, ADD, item_id, score, data, modified, actor) for k in keys)
                    self.row_keys.setdefault(row.pk, set()).update((field.timeline, k) for k in keys)
        storable, skipped = split_storable(found)
        self.skipped.update((op.timeline, op.key) for op in skipped)
        return storable

    def write(self, model, operations, clear, dry_run):
        """Clear keys seen for the first time (with --clear), then apply; return failed writes."""
        keys = {(op.timeline, op.key) for op in operations}
        fresh = keys - self.keys
        self.keys |= keys
        if clear:
            self.cleared |= fresh
            if not dry_run:
                for alias, key in sorted(fresh):
                    timelines[alias].clear(key)
        if dry_run:
            return 0
        return self.apply(operations)

    def forget_vanished(self, queryset, batch, operations):
        """Delete again the items of batch rows deleted since the batch was read; return failed writes.

        A delete that committed after the read, but whose clock was taken before the
        batch's (its transaction was still open), would lose to the adds just written.
        """
        still_there = set(queryset.filter(pk__in=[row.pk for row in batch]).values_list("pk", flat=True))
        vanished = [row for row in batch if row.pk not in still_there]
        if not vanished:
            return 0
        modified = default_clock.now()
        # Deleted as a delete of the row deletes it: by its reference, from every key its
        # items went to (a grouped item's id is its group's, and the row is one member).
        stored = {(op.timeline, op.key) for op in operations}
        return self.apply(
            [
                Operation(alias, key, DELETE, make_ref(row), None, None, modified)
                for row in vanished
                for alias, key in sorted(self.row_keys.get(row.pk, set()) & stored)
            ]
        )

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
