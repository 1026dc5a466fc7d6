"""Erasing a user (any actor) from every timeline store: at once at read time, then physically.

``erase_actor(ref_or_instance)`` records the erasure in every configured alias's
erasure record (``erasure_record``): one small append per alias, so the request that
deletes a user costs the same whatever they posted and however many follow them,
and every read leaves their items out from then on. ``purge(ref)`` (and
``manage.py timak_erase``) then rewrites the keys that may hold their items, so that
no stored value keeps their data: on a store that can list its keys (the database,
memory) every stored key; on Riak, which must not list keys, the keys the actor's
rows map to through their declared ``TimelineField``s (run it before deleting them).
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import ForeignKey, Model

from .backends.db import DatabaseBackend
from .backends.memory import MemoryBackend
from .erasure_record import ERASURE_KEY
from .exceptions import CorruptValue, InvalidTimelineInput
from .handler import timelines
from .notifications import MARKS_SUFFIX
from .refs import make_ref, parse_ref

#: Keys purged per ``read_many`` and ``write_many``.
CHUNK = 500


def actor_ref(ref_or_instance) -> str:
    """Return the reference of a saved instance, or check that a reference names an installed model."""
    if isinstance(ref_or_instance, Model):
        if ref_or_instance.pk is None:
            raise InvalidTimelineInput("cannot erase an unsaved instance: it has no reference")
        return make_ref(ref_or_instance)
    if parse_ref(ref_or_instance) is None:
        raise InvalidTimelineInput(
            f"{ref_or_instance!r} is not an actor reference: expected 'app_label.model:pk' of an installed model"
        )
    return ref_or_instance


def erase_actor(ref_or_instance) -> str:
    """Erase an actor from every configured alias at once; return its reference."""
    ref = actor_ref(ref_or_instance)
    for alias in timelines:
        timelines[alias].erase_actor(ref)
    return ref


def stored_keys(timeline):
    """Return the keys a store holds when it can list them cheaply (database, memory), else None."""
    backend = timeline.backend
    if isinstance(backend, DatabaseBackend):
        bases = backend._model.values_list("key", flat=True)
        deltas = backend._deltas.values_list("key", flat=True).distinct()
        return sorted(set(bases.iterator()) | set(deltas.iterator()))
    if isinstance(backend, MemoryBackend):
        return backend.keys()
    return None


def listed_timeline_keys(timeline):
    """Return the stored keys that hold timelines (not erasure records nor read marks), or None (see ``stored_keys``)."""
    listed = stored_keys(timeline)
    return None if listed is None else [key for key in listed if _holds_timeline(key)]


def _holds_timeline(key: str) -> bool:
    """Return False for the keys beside timelines: the erasure record and read marks."""
    return key != ERASURE_KEY and not key.endswith(MARKS_SUFFIX)


def mapped_keys(ref: str, alias: str) -> set[str]:
    """Return the keys of ``alias`` that the actor's rows belong to, by their declared fields (as rebuild computes them)."""
    actor_model, pk = parse_ref(ref)
    keys = set()
    for model in apps.get_models():
        for timeline_field in getattr(model, "_timak_fields", ()):
            if timeline_field.timeline != alias or not isinstance(timeline_field.actor, str):
                continue
            fk = model._meta.get_field(timeline_field.actor)
            if not isinstance(fk, ForeignKey) or fk.related_model._meta.concrete_model is not actor_model._meta.concrete_model:
                continue
            for row in model._default_manager.filter(**{fk.attname: pk}).iterator():
                keys.update(timeline_field.keys(row))
    return keys


@dataclass
class Purged:
    """What a purge of one alias did."""

    alias: str
    keys: int = 0
    rewritten: int = 0
    listed: bool = True
    skipped: list = field(default_factory=list)


def keys_to_purge(ref: str, alias: str) -> tuple[list[str], bool]:
    """Return the keys of ``alias`` that may hold the actor's items, and whether the store listed them."""
    listed = listed_timeline_keys(timelines[alias])
    if listed is not None:
        return listed, True
    return sorted(key for key in mapped_keys(ref, alias) if _holds_timeline(key)), False


def purge(ref: str, alias: str, *, dry_run: bool = False, progress=None) -> Purged:
    """Rewrite every key of ``alias`` that may hold the actor's items without them; ``progress(done, total)`` after each key."""
    keys, listed = keys_to_purge(ref, alias)
    result = Purged(alias, len(keys), listed=listed)
    timeline = timelines[alias]
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        if not dry_run:
            try:
                result.rewritten += len(timeline.purge_actors_many(chunk, {ref}))
            except CorruptValue:  # a foreign value among them: purge one by one, and name it
                for key in chunk:
                    try:
                        result.rewritten += timeline.purge_actors(key, {ref})
                    except CorruptValue:
                        result.skipped.append(key)
        if progress is not None:
            progress(start + len(chunk), len(keys))
    return result
