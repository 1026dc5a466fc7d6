"""A reader's exclusions: TIMAK_EXCLUDED_ACTORS and get_excluded_actors() leave blocked actors out of every page."""

import json

import pytest
from django.core import checks
from django.template import Context, Template
from django.test import RequestFactory

from django_timak import fanout
from django_timak.checks import check_excluded_actors
from django_timak.exceptions import InvalidTimelineInput
from django_timak.exclusion_settings import as_refs, excluded_actors
from django_timak.views import TimelineView
from tests.models import Remark
from tests.social import follow, make_users, ref

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clear_memory")]

BLOCKED = {}


def blocked_by(request, kind):
    """The test site's blocks: the users ``request.user`` blocks, as instances."""
    return BLOCKED.get((request.user.pk, kind), [])


class Home(TimelineView):
    def get_timeline_key(self):
        return f"remarks:{self.request.user.pk}:home"


@pytest.fixture
def home(settings):
    settings.TIMAK_FANOUT = {"RUN": "inline"}
    settings.TIMAK_EXCLUDED_ACTORS = "tests.test_blocking_reads.blocked_by"
    BLOCKED.clear()
    reader, ann, bob = make_users("reader", "ann", "bob")
    follow(reader, ann)
    follow(reader, bob)
    with fanout.batched():
        by_ann = [Remark.objects.create(author=ann, body=f"ann {n}") for n in range(3)]
        by_bob = [Remark.objects.create(author=bob, body=f"bob {n}") for n in range(3)]
    yield reader, ann, bob, by_ann, by_bob
    BLOCKED.clear()


def read(reader, view=Home, **query):
    request = RequestFactory().get("/", {"format": "json", **query})
    request.user = reader
    response = view.as_view()(request)
    return response.status_code, json.loads(response.content)


def test_a_block_takes_effect_on_the_very_next_page_and_an_unblock_too(home):
    reader, ann, bob, by_ann, by_bob = home
    assert len(read(reader)[1]["items"]) == 6
    BLOCKED[(reader.pk, "home")] = [bob]
    status, answer = read(reader)
    assert status == 200
    assert {item["id"] for item in answer["items"]} == {ref(r) for r in by_ann}
    BLOCKED.clear()
    assert len(read(reader)[1]["items"]) == 6


def test_the_view_hook_overrides_the_setting(home):
    reader, ann, bob, by_ann, by_bob = home

    class WithoutAnn(Home):
        def get_excluded_actors(self):
            return {ref(ann)}

    assert {item["id"] for item in read(reader, WithoutAnn)[1]["items"]} == {ref(r) for r in by_bob}


def test_an_exclusion_that_is_no_set_of_actors_is_a_400_not_a_500(home):
    reader, *_ = home

    class Broken(Home):
        def get_excluded_actors(self):
            return "tests.user:1"

    status, answer = read(reader, Broken)
    assert status == 400 and "invalid excluded actors" in answer["error"]


def test_the_tag_leaves_out_the_excluded_actors_given_as_instances(home):
    reader, ann, bob, by_ann, by_bob = home
    template = Template(
        '{% load timak %}{% timeline key exclude_actors=blocked as items %}'
        '{% for item in items %}{{ item.body }};{% endfor %}{{ items.invalid_exclusions }}'
    )
    shown = template.render(Context({"key": f"remarks:{reader.pk}:home", "blocked": [ann]}))
    assert sorted(shown.split(";")[:-1]) == ["bob 0", "bob 1", "bob 2"]
    assert template.render(Context({"key": f"remarks:{reader.pk}:home", "blocked": 42})) == "True"


def test_instances_become_refs_and_anything_else_is_refused_by_name():
    reader, = make_users("reader")
    assert as_refs([reader, "tests.user:9"]) == {ref(reader), "tests.user:9"}
    with pytest.raises(InvalidTimelineInput, match="exclude_actors"):
        as_refs("tests.user:9")
    with pytest.raises(InvalidTimelineInput, match="kind of page"):
        excluded_actors(None, "sidebar")


def test_a_setting_naming_no_callable_is_error_e050(settings):
    settings.TIMAK_EXCLUDED_ACTORS = "tests.nowhere.blocks"
    assert [(e.id, e.hint) for e in check_excluded_actors()] == [
        (
            "django_timak.E050",
            'Name a callable taking (request, kind) and returning the actors to leave out, e.g. '
            '"myapp.blocks.excluded_actors"; kind is "home", "profile" or "notifications".',
        )
    ]
    assert isinstance(check_excluded_actors()[0], checks.Error)
    settings.TIMAK_EXCLUDED_ACTORS = "tests.test_blocking_reads.blocked_by"
    assert check_excluded_actors() == []
