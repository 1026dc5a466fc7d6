"""``manage.py timak_status``: how far behind the outbox is."""

import json

from django.core.management.base import BaseCommand

from ... import outbox
from ..arguments import check_database


class Command(BaseCommand):
    help = "Show the outbox depth (row changes), the oldest pending change's age and failing changes per timeline."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the figures as JSON.")
        parser.add_argument("--database", default=None, help="The database holding the outbox.")

    def handle(self, *args, as_json, database, verbosity, **options):
        check_database(database)
        figures = outbox.status(using=database)
        if as_json:
            self.stdout.write(json.dumps(figures.as_dict()))
            return
        if not verbosity:
            return
        age = "-" if figures.oldest_age is None else f"{figures.oldest_age:.1f} s"
        self.stdout.write(f"pending changes: {figures.depth} ({figures.due} due now)")
        self.stdout.write(f"oldest pending:  {age}")
        if figures.failing:
            for alias, count in figures.failing.items():
                self.stdout.write(self.style.ERROR(f"failing on {alias!r}: {count} change(s)"))
        else:
            self.stdout.write(self.style.SUCCESS("no failing changes"))

