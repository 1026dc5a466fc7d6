"""System checks for the settings and the declarations: misconfiguration shows in ``manage.py check``."""

from importlib.util import find_spec
from string import Formatter

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import DatabaseError, models

from .conf import (
    ALIAS_KEYS,
    ALIAS_OPTIONS,
    COMPACTION_OPTIONS,
    FANOUT,
    FANOUT_OPTIONS,
    OUTBOX,
    OUTBOX_OPTIONS,
    TIMELINES,
    configured_timelines,
    invalid_values,
    outbox_settings,
)
from .declarations import RECIPIENT, TimelineMixin, declared_fields
from .exceptions import TimelineConfigError
from .exclusion_settings import excluded_callable
from .handler import build_timeline
from .outbox import outbox_database, status

#: The check id of each invalid value.
FANOUT_IDS = {"RUN": "django_timak.E011", "BATCH_SIZE": "django_timak.E012", "WORKERS": "django_timak.E012"}
OUTBOX_IDS = dict.fromkeys(OUTBOX_OPTIONS, "django_timak.E032") | {"ENABLED": "django_timak.E031"}


@checks.register("django_timak")
def check_timelines(app_configs=None, **kwargs):
    """Report each alias of TIMAK_TIMELINES that cannot be built, or whose store objects."""
    config = configured_timelines()
    if not isinstance(config, dict):
        return [
            checks.Error(
                f"{TIMELINES} must be a dict of aliases.",
                hint='For example {"default": {"BACKEND": "django_timak.backends.db.DatabaseBackend"}}.',
                id="django_timak.E001",
            )
        ]
    errors = []
    for alias, options in config.items():
        if not isinstance(options, dict):
            errors.append(
                checks.Error(
                    f"{TIMELINES}[{alias!r}] must be a dict.",
                    hint='Give each alias a dict with at least a "BACKEND".',
                    id="django_timak.E001",
                )
            )
            continue
        unknown = sorted(set(options) - ALIAS_KEYS)
        if unknown:
            errors.append(
                checks.Error(
                    f"{TIMELINES}[{alias!r}] has unknown keys: {', '.join(unknown)}.",
                    hint=f"Known keys: {', '.join(sorted(ALIAS_KEYS))}.",
                    id="django_timak.E002",
                )
            )
        for _, message in invalid_values(f"{TIMELINES}[{alias!r}]", ALIAS_OPTIONS, options):
            errors.append(
                checks.Error(
                    message,
                    hint="True: a page read degrades to an empty page (the view answers 503) when the store fails; False: the error propagates.",
                    id="django_timak.E004",
                )
            )
        refused = dict(invalid_values(f"{TIMELINES}[{alias!r}]", COMPACTION_OPTIONS, options))
        for message in refused.values():
            errors.append(
                checks.Error(
                    message,
                    hint="A key holding this many values (siblings, appended changes) is written back merged: "
                    "lower writes more often, higher reads more. Keep COMPACT_ON_APPEND under 25 on Riak.",
                    id="django_timak.E005",
                )
            )
        try:
            # A refused threshold is reported once, above; the rest of the alias is checked without it.
            timeline = build_timeline(alias, {key: value for key, value in options.items() if key not in refused})
        except TimelineConfigError as e:
            errors.append(
                checks.Error(
                    str(e),
                    hint="See TIMAK_TIMELINES in the settings reference (docs/settings.rst).",
                    id="django_timak.E003",
                )
            )
            continue
        errors.extend(timeline.backend.check())
        timeline.backend.close()
    return errors


def _dict_setting_errors(name, options, error_id, value_ids) -> list:
    """Return the errors of a dict setting: not a dict, unknown keys, values its options refuse."""
    config = getattr(settings, name, None)
    hint = f"Known keys: {', '.join(options)}."
    if config is None:
        return []
    if not isinstance(config, dict):
        return [checks.Error(f"{name} must be a dict.", hint=hint, id=error_id)]
    errors = []
    unknown = sorted(set(config) - set(options))
    if unknown:
        errors.append(checks.Error(f"{name} has unknown keys: {', '.join(unknown)}.", hint=hint, id=error_id))
    errors.extend(checks.Error(message, id=value_ids[key]) for key, message in invalid_values(name, options, config))
    return errors


@checks.register("django_timak")
def check_fanout(app_configs=None, **kwargs):
    """Report a TIMAK_FANOUT setting that fan-out cannot run with."""
    errors = _dict_setting_errors(FANOUT, FANOUT_OPTIONS, "django_timak.E010", FANOUT_IDS)
    config = getattr(settings, FANOUT, None)
    if isinstance(config, dict) and config.get("RUN") == "task" and not (find_spec("django.tasks") or find_spec("django_tasks")):
        errors.append(
            checks.Error(
                f"{FANOUT}['RUN'] is 'task' but no tasks framework is installed.",
                hint="Use Django 6 (django.tasks), or install the backport: pip install django-timak[tasks].",
                id="django_timak.E013",
            )
        )
    elif isinstance(config, dict) and config.get("RUN") == "task":
        errors.extend(_check_task_backend(config.get("TASK_BACKEND", FANOUT_OPTIONS["TASK_BACKEND"].default)))
    return errors


def _check_task_backend(alias) -> list:
    """Warn when fan-out tasks go to the immediate backend, which runs them inside the request."""
    immediate = "backends.immediate.ImmediateBackend"  # of django.tasks, or of the django_tasks backport
    tasks = getattr(settings, "TASKS", None) or {"default": {"BACKEND": f"django.tasks.{immediate}"}}
    if not str(tasks.get(alias, {}).get("BACKEND", "")).endswith(immediate):
        return []
    return [
        checks.Warning(
            f"{FANOUT}['RUN'] is 'task' but TASKS[{alias!r}] is the ImmediateBackend: fan-out runs inside the request.",
            hint="Use a backend with worker processes, e.g. django_tasks_db.DatabaseBackend and manage.py db_worker (pip install django-timak[workers]).",
            id="django_timak.W010",
        )
    ]


@checks.register("django_timak")
def check_outbox_setting(app_configs=None, **kwargs):
    """Report a TIMAK_OUTBOX setting the outbox cannot run with."""
    return _dict_setting_errors(OUTBOX, OUTBOX_OPTIONS, "django_timak.E030", OUTBOX_IDS)


@checks.register(checks.Tags.database)
def check_outbox_age(app_configs=None, databases=None, **kwargs):
    """Warn when the outbox holds a change older than WARN_AGE: fan-out is falling behind.

    A database check only (not tagged "django_timak"): it runs with ``check
    --database`` and before ``migrate``, as Django's own database checks do, never
    on every command.
    """
    if not databases or outbox_database() not in databases:
        return []
    try:
        figures = status()
    except DatabaseError:  # not migrated yet: nothing can be pending
        return []
    warn_age = outbox_settings()["WARN_AGE"]
    if figures.oldest_age is None or figures.oldest_age <= warn_age:
        return []
    return [
        checks.Warning(
            f"The timeline outbox holds {figures.depth} change(s); the oldest is {figures.oldest_age:.0f} s old "
            f"(over WARN_AGE, {warn_age:g} s).",
            hint="Is the timeline store down? See manage.py timak_status; run manage.py timak_drain --loop as a worker.",
            id="django_timak.W030",
        )
    ]


#: Model field types a score can come from (DecimalField is not: scores are int or float).
SCORE_FIELDS = (models.DateField, models.IntegerField, models.FloatField)


@checks.register("django_timak", checks.Tags.models)
def check_declarations(app_configs=None, **kwargs):
    """Report TimelineFields that name no attribute, no score field, or no timeline."""
    models_to_check = (
        apps.get_models() if app_configs is None else [m for c in app_configs for m in c.get_models()]
    )
    aliases = configured_timelines()
    errors = []
    for model in models_to_check:
        fields = declared_fields(model)
        if fields and not issubclass(model, TimelineMixin):
            errors.append(
                checks.Error(
                    f"{model._meta.label} declares TimelineFields but does not inherit TimelineMixin.",
                    hint="Declare it as class Model(TimelineMixin, models.Model): its timelines are kept current by the mixin.",
                    obj=model,
                    id="django_timak.E025",
                )
            )
        for field in fields:
            errors.extend(_check_field(model, field, aliases))
            errors.extend(_check_pull(model, field, fields))
    return errors


def _check_pull(model, field, fields) -> list:
    """Report a pull rule that is not callable, or pulled rows that would be stored nowhere."""
    if field.pull is None and field.pull_from is None:
        return []
    where = f"{model._meta.label}.{field.name}"
    errors = []
    if not callable(field.pull):
        errors.append(
            checks.Error(
                f"{where}: pull={field.pull!r} is not callable.",
                hint="Pass pull=lambda row: ... returning True for rows readers pull, or "
                "django_timak.pull.PullAbove(threshold, count).",
                obj=model,
                id="django_timak.E029",
            )
        )
    filled = {other.key for other in fields if other is not field and other.timeline == field.timeline}
    if field.pull_from not in filled:
        errors.append(
            checks.Error(
                f"{where}: pull_from={field.pull_from!r} is not the key of another TimelineField of "
                f"{model._meta.label} on timeline {field.timeline!r}: pulled rows would be stored nowhere.",
                hint=f"Name the key template of the field that keeps the rows readers pull from, one of: "
                f"{', '.join(repr(key) for key in sorted(filled)) or 'none (declare one)'}.",
                obj=model,
                id="django_timak.E028",
            )
        )
    return errors


def _placeholder_paths(key: str) -> list[str]:
    """Return the dotted attribute paths a key template reads ("author.username"), {recipient} aside."""
    paths = []
    for _, field_name, _, _ in Formatter().parse(key):
        path = field_name.split("[", 1)[0] if field_name else None
        if path and path.split(".", 1)[0] != RECIPIENT and path not in paths:
            paths.append(path)
    return paths


def _missing_attribute(model, path: str):
    """Return ``(model, name)`` for the first step of ``path`` that names nothing, else None.

    Relations are followed to the related model; past a plain field or a Python
    attribute (a property, a method) the value's type is unknown, so the walk stops.
    """
    current = model
    for name in path.split("."):
        try:
            found = current._meta.get_field(name)
        except FieldDoesNotExist:
            return None if hasattr(current, name) else (current, name)
        if not found.is_relation or found.related_model is None:
            return None
        current = found.related_model
    return None


def _is_foreign_key(model, name) -> bool:
    try:
        return model._meta.get_field(name).many_to_one is True
    except FieldDoesNotExist:
        return False


def _check_field(model, field, aliases):
    where = f"{model._meta.label}.{field.name}"
    errors = []
    if RECIPIENT in field.placeholders and field.recipients is None:
        errors.append(
            checks.Error(
                f"{where}: the key {field.key!r} uses {{recipient}} but the field has no recipients.",
                hint="Pass recipients=lambda row: [...] to give {recipient} its values.",
                obj=model,
                id="django_timak.E020",
            )
        )
    for path in _placeholder_paths(field.key):
        missing = _missing_attribute(model, path)
        if missing is not None:
            owner, name = missing
            errors.append(
                checks.Error(
                    f"{where}: the key {field.key!r} uses {{{path}}}, but {owner._meta.label} has no attribute {name!r}.",
                    hint="Placeholders name fields (author_id), attributes of the row or, through relations, of "
                    "related rows (author.username); or {recipient}.",
                    obj=model,
                    id="django_timak.E020",
                )
            )
    if field.recipients is not None and RECIPIENT not in field.placeholders:
        errors.append(
            checks.Error(
                f"{where}: the field has recipients but its key {field.key!r} has no {{recipient}}.",
                hint="Every recipient would get the same key: add {recipient} to the key.",
                obj=model,
                id="django_timak.E021",
            )
        )
    try:
        score_field = model._meta.get_field(field.score)
    except FieldDoesNotExist:
        errors.append(
            checks.Error(
                f"{where}: score={field.score!r} names no field of {model._meta.label}.",
                obj=model,
                id="django_timak.E022",
            )
        )
    else:
        if not isinstance(score_field, SCORE_FIELDS):
            errors.append(
                checks.Error(
                    f"{where}: score={field.score!r} is a {type(score_field).__name__}, not a date, datetime or number.",
                    hint="Scores order the timeline: use a DateField, DateTimeField, IntegerField or FloatField.",
                    obj=model,
                    id="django_timak.E023",
                )
            )
    for option in ("actor", "target"):
        name = getattr(field, option)
        if isinstance(name, str) and not _is_foreign_key(model, name):
            errors.append(
                checks.Error(
                    f"{where}: {option}={name!r} names no foreign key of {model._meta.label}.",
                    hint="Name a ForeignKey (its id is read without a query), or pass a callable returning a row or a reference.",
                    obj=model,
                    id="django_timak.E026",
                )
            )
    if isinstance(aliases, dict) and field.timeline not in aliases:
        errors.append(
            checks.Error(
                f"{where}: timeline={field.timeline!r} is not an alias of {TIMELINES}.",
                hint=f"Known aliases: {', '.join(aliases)}.",
                obj=model,
                id="django_timak.E024",
            )
        )
    return errors


@checks.register("django_timak")
def check_excluded_actors(app_configs=None, **kwargs):
    """Report a TIMAK_EXCLUDED_ACTORS that names no callable."""
    try:
        excluded_callable()
    except TimelineConfigError as e:
        return [
            checks.Error(
                str(e),
                hint="Name a callable taking (request, kind) and returning the actors to leave out, e.g. "
                '"myapp.blocks.excluded_actors"; kind is "home", "profile" or "notifications".',
                id="django_timak.E050",
            )
        ]
    return []
