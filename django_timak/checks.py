"""System checks for TIMAK_TIMELINES: misconfiguration shows in ``manage.py check``."""

from django.core import checks

from .handler import KNOWN_KEYS, SETTING, TimelineConfigError, build_timeline, configured_timelines


@checks.register("django_timak")
def check_timelines(app_configs=None, **kwargs):
    """Report each alias of TIMAK_TIMELINES that cannot be built, or whose store objects."""
    config = configured_timelines()
    if not isinstance(config, dict):
        return [
            checks.Error(
                f"{SETTING} must be a dict of aliases.",
                hint='For example {"default": {"BACKEND": "django_timak.backends.db.DatabaseBackend"}}.',
                id="django_timak.E001",
            )
        ]
    errors = []
    for alias, options in config.items():
        if not isinstance(options, dict):
            errors.append(
                checks.Error(
                    f"{SETTING}[{alias!r}] must be a dict.",
                    hint='Give each alias a dict with at least a "BACKEND".',
                    id="django_timak.E001",
                )
            )
            continue
        unknown = sorted(set(options) - KNOWN_KEYS)
        if unknown:
            errors.append(
                checks.Error(
                    f"{SETTING}[{alias!r}] has unknown keys: {', '.join(unknown)}.",
                    hint=f"Known keys: {', '.join(sorted(KNOWN_KEYS))}.",
                    id="django_timak.E002",
                )
            )
        try:
            timeline = build_timeline(alias, options)
        except TimelineConfigError as e:
            errors.append(
                checks.Error(
                    str(e),
                    hint="See the TIMAK_TIMELINES section of the django-timak README.",
                    id="django_timak.E003",
                )
            )
            continue
        errors.extend(timeline.backend.check())
        timeline.backend.close()
    return errors
