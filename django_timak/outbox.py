"""The transactional outbox: fan-out that survives a store outage.

A save or delete records its row change (``row_changes``: one row per timeline
alias, whatever the row's audience) in the same transaction as the save (a rollback
drops it, a commit guarantees it); a drain computes the change's keys and appends to
them after commit. A change that fails on any of its keys stays, and is retried
whole with exponential backoff and jitter by the next fan-out, by ``manage.py
timak_drain`` (also as a worker loop) and by a background task when fan-out runs as
tasks. Delivery is at least once; that is enough because every operation of a change
carries the clock it was stamped with at save time, so applying it twice, or after a
later change of the same row, changes nothing. A store that answers again releases
what waits for it: a drain that applies a change on a store makes that store's
postponed changes due at once, and a drain with nothing due asks each store with
postponed changes whether it answers, so one drain after an outage finishes the work.

Drains claim rows with a lease (``due`` moves into the future under a claim token),
so concurrent drains share the work, and a killed drain's rows come back when its
lease ends.
"""

import logging
import random
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import router, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from .aliases import lazy_names
from .conf import fanout_settings, outbox_settings
from .exceptions import TimelineConfigError
from .handler import timelines
from .models import PendingOperation
from .operations import apply_operations
from .row_changes import PARTS, RowChange, expand

logger = logging.getLogger("django_timak")

#: Names that lived here before django_timak.conf.
__getattr__ = lazy_names(__name__, {"SETTING": "django_timak.conf:OUTBOX", "DEFAULTS": "django_timak.conf:OUTBOX_DEFAULTS"})


def enabled_for(alias: str) -> bool:
    """Return True if changes to timeline ``alias`` go through the outbox."""
    enabled = outbox_settings()["ENABLED"]
    if enabled is None:
        try:
            return timelines[alias].backend.networked
        except TimelineConfigError:  # recorded, so that a drain applies it once the alias is fixed
            return True
    return bool(enabled)


def outbox_database() -> str:
    return router.db_for_write(PendingOperation)


def record(changes: list[RowChange], using: str | None = None) -> list[int]:
    """Store row ``changes`` in the current transaction of database ``using``; return their ids."""
    now = timezone.now()
    rows = [PendingOperation(timeline=change.timeline, change=_stored(change), due=now) for change in changes]
    using = using or outbox_database()
    created = PendingOperation.objects.using(using).bulk_create(rows)
    if created and created[0].pk is None:  # databases that cannot return ids from a bulk insert
        return []
    return [row.pk for row in created]


def _stored(change: RowChange) -> dict:
    stored = change.to_dict()
    del stored["timeline"]
    return stored


def _change(row: PendingOperation) -> RowChange:
    return RowChange(timeline=row.timeline, **row.change)


@dataclass
class DrainResult:
    """What one drain did: changes applied, changes left for a retry (``errors``: a failed key of each)."""

    applied: int = 0
    failed: int = 0
    errors: dict = field(default_factory=dict)

    def __iadd__(self, other):
        self.applied += other.applied
        self.failed += other.failed
        self.errors.update(other.errors)
        return self


def drain(*, ids=None, limit: int | None = None, using: str | None = None, workers: int | None = None) -> DrainResult:
    """Claim up to ``limit`` due changes (only ``ids``, if given), apply them, settle them.

    Writes to a networked store run ``workers`` at a time (by default TIMAK_FANOUT's WORKERS).
    Once a store fails, the rest of that store's keys in the batch are not
    tried: they are retried later with the failed ones, so a caller waits for a down
    store at most one timeout (per concurrent write).
    """
    config = outbox_settings()
    using = using or outbox_database()
    rows = _claim(ids, limit or config["BATCH_SIZE"], config["LEASE"], using)
    if not rows:
        return DrainResult()
    if workers is None:
        workers = fanout_settings()["WORKERS"]
    changes = [_change(row) for row in rows]
    operations = {row.pk: [] for row in rows}
    failures = {}
    down = {}  # a store that fails on the rows' own keys is not waited for again
    for part in PARTS:  # the rows' own keys first, then their recipients', resolved after
        expanded = expand(changes, part)
        for row, ops in zip(rows, expanded):
            operations[row.pk].extend(ops)
        failed = apply_operations([op for ops in expanded for op in ops], workers, down)
        failures.update({(ops[0].timeline, ops[0].key): error for ops, error in failed})
    errors = {}
    for row in rows:
        for op in operations[row.pk]:
            if (op.timeline, op.key) in failures:
                errors[row.pk] = (f"{op.timeline}:{op.key}", failures[(op.timeline, op.key)])
                break
    done = [row.pk for row in rows if row.pk not in errors]
    answered = {op.timeline for row in rows if row.pk not in errors for op in operations[row.pk]}
    result = DrainResult(applied=len(done), failed=len(errors))
    with transaction.atomic(using=using):  # one commit settles the whole batch
        PendingOperation.objects.using(using).filter(pk__in=done).delete()
        _postpone([row for row in rows if row.pk in errors], errors, config, using)
    _release(answered, using)
    for where, error in errors.values():
        result.errors[where] = error
    if errors:
        where, error = next(iter(errors.values()))
        logger.warning(
            "timak: %d change(s) failed on %d key(s) and will be retried; first %s: %s",
            result.failed, len(failures), where, error,
        )
    return result


def drain_all(*, using: str | None = None, max_batches: int | None = None, workers: int | None = None) -> DrainResult:
    """Drain batch after batch until nothing is due, or a batch applies nothing.

    Before giving up, ask each store with postponed changes whether it answers
    again, and drain on if one does: one drain after an outage finishes the work.
    """
    total = DrainResult()
    batches = 0
    probed = False
    while max_batches is None or batches < max_batches:
        result = drain(using=using, workers=workers)
        total += result
        batches += 1
        if result.applied:
            continue
        if probed or not release_recovered(using=using):
            break
        probed = True
    return total


def release_recovered(using: str | None = None) -> int:
    """Make due now the postponed changes of every store that answers again; return how many.

    Backoff spaces out the retries against a store that is down; once it answers,
    what waits for it need not wait out the rest of its delay.
    """
    using = using or outbox_database()
    waiting = PendingOperation.objects.using(using).filter(claim="", attempts__gt=0, due__gt=timezone.now())
    aliases = set(waiting.values_list("timeline", flat=True).distinct())
    return _release({alias for alias in aliases if _answers(alias)}, using)


def _answers(alias) -> bool:
    try:
        return timelines[alias].backend.ping()
    except TimelineConfigError:
        return False


def _release(aliases, using) -> int:
    """Make the postponed changes of ``aliases`` due now; return how many."""
    if not aliases:
        return 0
    postponed = PendingOperation.objects.using(using).filter(
        timeline__in=sorted(aliases), claim="", attempts__gt=0, due__gt=timezone.now()
    )
    return postponed.update(due=timezone.now())


def deliver(ids, using: str | None = None, workers: int | None = None) -> DrainResult:
    """Apply a commit's own changes; if the stores answered, retry as many due ones.

    The retries are bounded by the commit's own work, so a request never pays for a
    whole backlog; ``timak_drain`` or the drain task clears the rest.
    """
    if not ids:  # a database that returns no ids from a bulk insert (MySQL)
        return drain(using=using, workers=workers)
    result = drain(ids=ids, using=using, workers=workers)
    if result.applied and not result.failed:
        result += drain(limit=len(ids), using=using, workers=workers)
    return result


def _claim(ids, limit, lease, using):
    token = uuid.uuid4().hex
    now = timezone.now()
    due = PendingOperation.objects.using(using).filter(due__lte=now)
    if ids is not None:
        due = due.filter(pk__in=ids)
    candidates = list(due.order_by("pk").values_list("pk", flat=True)[:limit])
    if not candidates:
        return []
    with transaction.atomic(using=using):
        PendingOperation.objects.using(using).filter(pk__in=candidates, due__lte=now).update(
            claim=token, due=now + timedelta(seconds=lease)
        )
    return list(PendingOperation.objects.using(using).filter(claim=token).order_by("pk"))


def _postpone(rows, errors, config, using):
    """Make failed rows due again after a backoff that doubles with each attempt."""
    by_attempts = {}
    for row in rows:
        _, error = errors[row.pk]
        by_attempts.setdefault(row.attempts + 1, ([], f"{type(error).__name__}: {error}"[:2000]))[0].append(row.pk)
    for attempts, (pks, error) in by_attempts.items():
        delay = min(config["MAX_BACKOFF"], config["BACKOFF"] * 2 ** (attempts - 1))
        due = timezone.now() + timedelta(seconds=delay * random.uniform(0.5, 1.0))
        PendingOperation.objects.using(using).filter(pk__in=pks).update(attempts=attempts, due=due, claim="", last_error=error)


@dataclass(frozen=True)
class OutboxStatus:
    """The outbox's figures, for ``timak_status``, health checks and metrics."""

    depth: int
    due: int
    oldest_age: float | None
    failing: dict

    def as_dict(self) -> dict:
        return {"depth": self.depth, "due": self.due, "oldest_age": self.oldest_age, "failing": self.failing}


def status(using: str | None = None) -> OutboxStatus:
    """Return how many changes wait, how old the oldest is, and failing changes per timeline."""
    rows = PendingOperation.objects.using(using or outbox_database())
    now = timezone.now()
    totals = rows.aggregate(depth=Count("pk"), due=Count("pk", filter=Q(due__lte=now)), oldest=Min("created"))
    failing = dict(
        rows.filter(attempts__gt=0).values_list("timeline").annotate(n=Count("pk")).order_by("timeline").values_list("timeline", "n")
    )
    oldest = (now - totals["oldest"]).total_seconds() if totals["oldest"] else None
    return OutboxStatus(totals["depth"], totals["due"], oldest, failing)
