"""The {% timeline %} tag: hydrated pages in a fixed number of queries, in timeline order."""

import re
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.utils import timezone

from django_timak import timelines
from django_timak.templatetags.timak import TimelineItems, item_template_names
from tests.models import Photo, Post
from tests.social import make_users, ref

pytestmark = pytest.mark.usefixtures("clear_memory")

PAGE = """{% load timak %}{% timeline key limit=limit cursor=cursor as items %}{% for item in items %}{% timeline_item item %}
{% endfor %}next={{ items.has_next }}"""


def render(source, **context):
    return Template(source).render(Context(context))


@pytest.fixture
def profile(db, django_capture_on_commit_callbacks):
    """alice's profile key and its rows, newest first: 30 posts and 10 photos, interleaved."""
    (alice,) = make_users("alice")
    start = timezone.now() - timedelta(days=1)
    rows = []
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(40):
            at = start + timedelta(minutes=i)
            if i % 4 == 3:
                rows.append(Photo.objects.create(owner=alice, caption=f"photo {i}", taken=at))
            else:
                rows.append(Post.objects.create(author=alice, body=f"post {i}", created=at))
    key = f"user:{alice.pk}:posts"
    timelines["default"].get(key)  # an earlier page view merged (and compacted) what fan-out appended
    return key, rows[::-1]


def shown(html):
    return re.findall(r'data-ref="([^"]+)"|<article class="timak-item">([^<]+)</article>', html)


@pytest.mark.parametrize("limit", [5, 20])
def test_a_page_of_mixed_rows_costs_the_same_queries_whatever_its_size(profile, limit, django_assert_num_queries):
    key, rows = profile
    # One read of the timeline, one query for the posts (with their authors), one for the photos.
    with django_assert_num_queries(3):
        html = render(PAGE, key=key, limit=limit, cursor=None)
    expected = rows[:limit]
    posts = [ref(r) for r in expected if isinstance(r, Post)]
    assert [m[0] for m in shown(html) if m[0]] == posts
    assert html.count("<article") == limit
    assert [f"Photo object ({r.pk})" for r in expected if isinstance(r, Photo)] == [m[1] for m in shown(html) if m[1]]
    assert html.endswith("next=True")


def render_items(key, limit, cursor):
    context = Context({"key": key, "limit": limit, "cursor": cursor})
    Template("{% load timak %}{% timeline key limit=limit cursor=cursor as items %}").render(context)
    return context["items"]


def test_the_next_cursor_walks_to_the_end(profile):
    key, rows = profile
    seen, cursor = [], None
    while True:
        items = render_items(key, 7, cursor)
        seen.extend(items)
        if not items.has_next:
            break
        cursor = items.next_cursor
    assert seen == rows


def test_vanished_rows_are_skipped_and_plain_items_come_back_as_values(db, django_assert_num_queries):
    timeline = timelines["default"]
    timeline.add("mixed", "tests.post:999999", 30)
    timeline.add("mixed", "plain-id", 20)
    timeline.add("mixed", 7, 10, {"text": "data"})
    with django_assert_num_queries(2):
        items = render_items("mixed", 10, "")
    assert list(items) == ["plain-id", {"text": "data"}]
    assert not items.has_next and not items.invalid_cursor


def test_a_bad_cursor_renders_an_empty_page(profile, caplog):
    key, _ = profile
    items = render_items(key, 5, "not-a-cursor")
    assert isinstance(items, TimelineItems)
    assert list(items) == [] and items.invalid_cursor and not items.has_next
    assert "bad cursor" in caplog.text


def test_the_timeline_alias_can_be_chosen(profile):
    key, rows = profile
    context = Context({"key": key})
    Template('{% load timak %}{% timeline key limit=3 timeline="memory" as items %}').render(context)
    assert list(context["items"]) == [r for r in rows if isinstance(r, Post)][:3]


def test_item_templates_fall_back_from_the_model_to_the_default():
    post = Post()
    assert item_template_names(post) == ["django_timak/items/tests/post.html", "django_timak/items/item.html"]
    assert item_template_names({"text": "x"}) == ["django_timak/items/item.html"]


def test_item_templates_see_the_page_context(profile):
    key, rows = profile
    html = render(PAGE, key=key, limit=4, cursor=None, viewer="alice")
    assert html.count('class="edit"') == 3  # the three posts among four items; photos have no edit link
    assert 'class="edit"' not in render(PAGE, key=key, limit=4, cursor=None, viewer="bob")


@pytest.mark.parametrize("limit, size", [("5", 5), (" 7 ", 7), ("abc", 20), ("0", 20), ("-3", 20), ("5.5", 20), ("²", 20), ("9" * 5000, 20), (None, 20), (2.0, 20), ("1000", 40)])
def test_a_limit_from_a_query_parameter_is_a_number_or_the_default(profile, limit, size):
    key, rows = profile
    assert list(render_items(key, limit, None)) == rows[:size]


def test_an_invalid_key_renders_an_empty_page_with_a_flag(db, caplog):
    for key in ["x" * 300, "a\x00b", ""]:
        items = render_items(key, 5, None)
        assert list(items) == [] and items.invalid_key and not items.unavailable
    assert "cannot read key" in caplog.text


FAILING = {
    "default": {"BACKEND": "django_timak.backends.db.DatabaseBackend"},
    "down": {"BACKEND": "tests.backends.UnreachableBackend"},
    "strict": {"BACKEND": "tests.backends.UnreachableBackend", "IGNORE_EXCEPTIONS": False},
    "broken": {"BACKEND": "django_timak.backends.db.DatabaseBackend", "MAX_ITEMS": "many"},
}


@override_settings(TIMAK_TIMELINES=FAILING)
@pytest.mark.parametrize("alias", ["down", "broken"])
def test_a_store_that_cannot_answer_renders_an_empty_page_the_template_can_test(alias):
    source = (
        '{% load timak %}{% timeline "user:1:home" timeline=alias as items %}'
        "{% if items.unavailable %}unavailable{% else %}{% for i in items %}{{ i }}{% endfor %}{% endif %}"
    )
    assert render(source, alias=alias) == "unavailable"


@override_settings(TIMAK_TIMELINES=FAILING)
def test_ignore_exceptions_false_lets_the_tag_raise():
    from django_timak.exceptions import TimelineBackendError

    with pytest.raises(TimelineBackendError):
        render('{% load timak %}{% timeline "user:1:home" timeline="strict" as items %}')


def test_previous_cursors_walk_back_to_the_top(profile):
    key, rows = profile
    pages, cursor = [], None
    while True:
        items = render_items(key, 7, cursor)
        pages.append(list(items))
        if not items.has_next:
            break
        cursor = items.next_cursor
    assert not render_items(key, 7, None).has_previous, "the first page has nothing newer"
    back = []
    while items.has_previous:
        items = render_items(key, 7, items.previous_cursor)
        back.append(list(items))
    assert back == pages[-2::-1]
