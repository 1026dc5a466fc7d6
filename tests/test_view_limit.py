"""TimelineView's ?limit=: the client chooses the page size, up to max_paginate_by; a bad size is a 400."""

import pytest
from django.test import RequestFactory

from django_timak import timelines
from tests.views import TopicView

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic():
    timelines["default"].add_many("topic:limits", [(n, n, None) for n in range(150)])
    yield "/topics/limits/"
    timelines["default"].clear("topic:limits")


def ids(client, url):
    answer = client.get(url, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200
    return [item["id"] for item in answer.json()["items"]], answer.json()["next"]


def test_limit_chooses_the_page_size_and_the_next_page_keeps_it(client, topic):
    first, next_url = ids(client, f"{topic}?limit=7")
    assert first == list(range(149, 142, -1))
    assert "limit=7" in next_url
    second, _ = ids(client, next_url)
    assert second == list(range(142, 135, -1))


def test_without_limit_the_page_has_paginate_by_items(client, topic):
    assert len(ids(client, topic)[0]) == 20


def test_a_limit_over_the_maximum_gets_the_maximum(client, topic):
    assert len(ids(client, f"{topic}?limit=5000")[0]) == 100


@pytest.mark.parametrize("limit", ["0", "-3", "ten", "2.5", "", "٣"])
def test_a_bad_limit_answers_400_with_a_sentence(client, topic, limit):
    answer = client.get(f"{topic}?limit={limit}", HTTP_ACCEPT="application/json")
    assert answer.status_code == 400
    assert answer.json() == {"error": "limit must be a whole number of at least 1"}


def test_a_bad_limit_in_html_is_the_projects_400_page(client, topic):
    assert client.get(f"{topic}?limit=0").status_code == 400


def test_the_parameter_and_the_maximum_are_class_attributes():
    class Small(TopicView):
        page_size_query_param = "size"
        max_paginate_by = 3

    view = Small()
    view.setup(RequestFactory().get("/topics/x/?size=9&limit=1"), topic="x")
    assert view.get_paginate_by() == 3
    view.page_size_query_param = None
    assert view.get_paginate_by() == 20
