"""``manage.py timak_riak_setup``: give Riak buckets the properties timelines need."""

from django.core.management.base import BaseCommand, CommandError

from django_timak.backends.riak import RiakBackend
from django_timak.backends.riak.admin import RECOMMENDED_PROPS, REQUIRED_PROPS, bucket_type_commands
from django_timak.exceptions import BucketPropsRefused, BucketTypeMissing, TimelineBackendError
from django_timak.handler import timelines


def _describe(props):
    return ", ".join(f"{name}={str(value).lower()}" for name, value in props.items())


class Command(BaseCommand):
    help = (
        "Set allow_mult=true and last_write_wins=false (and dvv_enabled=true where Riak allows it) "
        "on the bucket of each Riak timeline, over HTTP, and print the riak admin commands for "
        "what HTTP cannot set."
    )
    # The system checks report exactly what this command repairs: they must not stop it.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeline", action="append", dest="aliases", metavar="NAME",
            help="A TIMAK_TIMELINES alias to set up (repeatable); by default every Riak timeline.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Show what would change, and change nothing.")

    def handle(self, *args, aliases=None, dry_run=False, verbosity=1, **options):
        self.verbosity = verbosity
        failed = [alias for alias, backend in self._backends(aliases) if not self._set_up(alias, backend, dry_run)]
        if failed:
            raise CommandError(f"could not set up Riak for: {', '.join(failed)}")

    def _backends(self, aliases):
        found = []
        for alias in aliases or list(timelines):
            if alias not in timelines:
                raise CommandError(f"TIMAK_TIMELINES has no timeline named {alias!r}")
            backend = timelines[alias].backend
            if isinstance(backend, RiakBackend):
                found.append((alias, backend))
            elif aliases:
                raise CommandError(f"timeline {alias!r} is not stored in Riak ({type(backend).__name__})")
        if not found:
            raise CommandError("no timeline in TIMAK_TIMELINES uses django_timak.backends.riak.RiakBackend")
        return found

    def _say(self, message, style=None, level=1):
        if self.verbosity >= level:
            self.stdout.write(style(message) if style else message)

    def _set_up(self, alias, backend, dry_run):
        """Return True when the alias's bucket has (or, with dry_run, would get) the required props."""
        self._say(f"{alias}: bucket {backend.bucket!r} of type {backend.bucket_type!r} at {', '.join(backend.urls)}")
        try:
            props = backend.bucket_props()
        except BucketTypeMissing:
            self.stderr.write(self.style.ERROR(f"{alias}: bucket type {backend.bucket_type!r} does not exist; on a Riak node run:"))
            for command in bucket_type_commands(backend.bucket_type):
                self.stderr.write(f"  {command}")
            return False
        except TimelineBackendError as e:
            self.stderr.write(self.style.ERROR(f"{alias}: {e.message}"))
            return False
        missing = {name: value for name, value in REQUIRED_PROPS.items() if props.get(name) != value}
        extra = {name: value for name, value in RECOMMENDED_PROPS.items() if props.get(name) != value}
        if not missing and not extra:
            self._say(self.style.SUCCESS(f"{alias}: already set up ({_describe(REQUIRED_PROPS | RECOMMENDED_PROPS)})."))
            return True
        if dry_run:
            self._say(f"{alias}: would set {_describe(missing | extra)} (PUT {backend.props_url})")
            return True
        try:
            if missing:
                backend.set_bucket_props(missing)
            if extra:
                self._try_recommended(backend, extra)
            props = backend.bucket_props()
        except TimelineBackendError as e:
            self.stderr.write(self.style.ERROR(f"{alias}: {e.message}"))
            return False
        unset = {name: value for name, value in REQUIRED_PROPS.items() if props.get(name) != value}
        if unset:
            self.stderr.write(self.style.ERROR(f"{alias}: Riak did not keep {_describe(unset)}"))
            return False
        self._say(self.style.SUCCESS(f"{alias}: {_describe(REQUIRED_PROPS)}."))
        if any(props.get(name) != value for name, value in RECOMMENDED_PROPS.items()):
            name = "timak" if backend.bucket_type == "default" else backend.bucket_type
            self._say(self.style.WARNING(
                f"{alias}: dvv_enabled cannot be set over HTTP here; for a bucket type with it, on a Riak node run:"
            ))
            for command in bucket_type_commands(name):
                self._say(f"  {command}")
        return True

    def _try_recommended(self, backend, props):
        # Riak may refuse dvv_enabled on a bucket (it belongs to the bucket type): a
        # refusal is reported after the props are read back, not raised.
        try:
            backend.set_bucket_props(props)
        except BucketPropsRefused as e:
            self._say(f"  Riak said: {e.message}", level=2)
