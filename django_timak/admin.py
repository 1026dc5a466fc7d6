"""A read-only Django admin for timeline keys: what a key holds, merged and unmerged.

``StoredTimeline`` (the database store's rows) gets a changelist and a detail page;
"Look up a key" reads one key of any ``TIMAK_TIMELINES`` alias, Riak included, through
its store's ``read`` (no store is asked to list its keys). Nothing here writes: there
is no add, change or delete permission, and a lookup never compacts what it read.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path

from . import codecs, entries as core
from .backends.db import DatabaseBackend
from .exceptions import CorruptValue, InvalidKey, TimelineError
from .handler import timelines
from .inputs import check_key
from .models import StoredTimeline, TimelineDelta


def describe(timeline, values: list[bytes]) -> dict:
    """Return what a key's values hold: each value decoded, and their merge (items and tombstones)."""
    decoded = []
    for number, value in enumerate(values, 1):
        try:
            decoded.append({"number": number, "size": len(value), "entries": codecs.decode(value)})
        except CorruptValue as e:
            decoded.append({"number": number, "size": len(value), "entries": [], "error": str(e)})
    lists = [d["entries"] for d in decoded]
    merged = core.merge(*lists, capacity=timeline.capacity, tombstones=timeline.max_tombstones, order=timeline.order)
    return {
        "values": decoded,
        "items": core.visible(merged, timeline.max_items),
        "tombstones": [e for e in merged if e.deleted],
        "timeline": timeline,
    }


def _database_timeline(using: str | None):
    """Return the Timeline of the alias that stores in database ``using`` (the first such alias)."""
    for alias in timelines:
        backend = timelines[alias].backend
        if isinstance(backend, DatabaseBackend) and backend.using == (using or "default"):
            return timelines[alias]
    return None


class LookupForm(forms.Form):
    alias = forms.ChoiceField(label="Timeline alias")
    key = forms.CharField(max_length=255)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["alias"].choices = [(alias, alias) for alias in timelines]

    def clean_key(self):
        key = self.cleaned_data["key"]
        try:
            check_key(key)
        except InvalidKey as e:
            raise forms.ValidationError(str(e)) from e
        return key


@admin.register(StoredTimeline)
class StoredTimelineAdmin(admin.ModelAdmin):
    """The database store's timeline keys, read-only, each value decoded on its page."""

    list_display = ("key", "version", "size", "deltas")
    search_fields = ("key",)
    fields = ("key", "version", "contents")
    readonly_fields = fields
    change_list_template = "django_timak/admin/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="bytes")
    def size(self, obj):
        return len(obj.value)

    @admin.display(description="unmerged appends")
    def deltas(self, obj):
        return TimelineDelta.objects.using(obj._state.db).filter(key=obj.key).count()

    @admin.display(description="what the key holds")
    def contents(self, obj):
        timeline = _database_timeline(obj._state.db)
        if timeline is None:
            return "No TIMAK_TIMELINES alias stores timelines in this database."
        appended = TimelineDelta.objects.using(obj._state.db).filter(key=obj.key).order_by("id")
        values = [bytes(obj.value), *(bytes(delta.value) for delta in appended)]
        return render_to_string("django_timak/admin/key.html", describe(timeline, values))

    def get_urls(self):
        lookup = self.admin_site.admin_view(self.lookup_view)
        return [path("lookup/", lookup, name="django_timak_lookup"), *super().get_urls()]

    def lookup_view(self, request):
        """Read one key of any alias and show its values, merged and unmerged."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = LookupForm(request.GET or None)
        found = error = None
        if form.is_valid():
            timeline = timelines[form.cleaned_data["alias"]]
            try:
                versioned = timeline.backend.read(form.cleaned_data["key"])
                found = describe(timeline, list(versioned.values))
            except TimelineError as e:
                error = f"The store could not answer: {e}"
        context = {
            **self.admin_site.each_context(request),
            "title": "Look up a timeline key",
            "opts": self.model._meta,
            "form": form,
            "found": found,
            "error": error,
        }
        return TemplateResponse(request, "django_timak/admin/lookup.html", context)
