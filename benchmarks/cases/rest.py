"""Case 15: a DRF page of 20 hydrated posts against ``TimelineView``'s JSON of the same page.

Both read the home timeline of case 6 (1,000 posts in it), hydrate 20 posts with
their authors in one query, and answer JSON with the same four fields per post; the
DRF view serializes them with a ``ModelSerializer`` through ``TimelinePagination``.
Target: at most 1.3x the floor, in 2 queries (the timeline's row, then the posts).
"""

from django.db import connection
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from django_timak.rest.views import TimelineListAPIView
from django_timak.views import TimelineView
from tests.models import Post

from ..measure import compare
from ..report import Row
from .reads import READER_KEY, ensure_users, fill_home, grow


class PostSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")

    class Meta:
        model = Post
        fields = ["id", "author", "body", "created"]


class HomeAPIView(TimelineListAPIView):
    serializer_class = PostSerializer

    def get_timeline_key(self):
        return READER_KEY


class HomeView(TimelineView):
    def get_timeline_key(self):
        return READER_KEY

    def serialize_item(self, item, entry):
        return {"id": item.pk, "author": item.author.username, "body": item.body, "created": item.created}


@override_settings(ALLOWED_HOSTS=["testserver"])  # the DRF page's next link is absolute
def run(config):
    ensure_users()
    grow(config.posts[0])
    fill_home(1000)
    drf_view, django_view = HomeAPIView.as_view(), HomeView.as_view()
    drf_request, django_request = APIRequestFactory().get("/home/"), RequestFactory().get("/home/", {"format": "json"})

    def drf_page():
        response = drf_view(drf_request)
        assert len(response.render().data["results"]) == 20

    def django_page():
        assert django_view(django_request).status_code == 200

    with CaptureQueriesContext(connection) as queries:
        drf_page()
    batch = config.batch

    def drf_pages():
        for _ in range(batch):
            drf_page()

    def django_pages():
        for _ in range(batch):
            django_page()

    spent, floor = compare(drf_pages, django_pages, config.runs)
    spent, floor = spent.scaled(1000 / batch), floor.scaled(1000 / batch)
    ratio = spent.median / floor.median
    met = ratio <= 1.3 and len(queries) == 2
    return [Row("15 DRF page", f"20 posts, {len(queries)} queries", "ms", spent, floor.median,
                "TimelineView JSON", ratio, "<= 1.3x, 2 queries", met)]
