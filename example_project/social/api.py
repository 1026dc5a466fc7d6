"""The demo's JSON API through Django REST framework: the home timeline and the notifications.

``/api/home/`` is the home page's timeline (pulled authors merged), ``/api/notifications/``
the notification feed with its ``seen`` and ``read`` actions; both answer Activity
Streams 2.0 too (``?format=as2``) and leave out whom the reader blocks or mutes, as
the pages do (``TIMAK_EXCLUDED_ACTORS``). They are served only where DRF is installed.
"""

from rest_framework import routers, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.schemas.openapi import AutoSchema

from django_timak.rest.renderers import ActivityStreamsRenderer
from django_timak.rest.serializers import NotificationSerializer
from django_timak.rest.views import NotificationViewSet, TimelineViewSet

from .models import Post
from .notices import describe
from .views import HomeView


class PostSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")

    class Meta:
        model = Post
        fields = ["id", "author", "body", "created"]


class NoticeSerializer(NotificationSerializer):
    """A group with the sentence the notifications page shows for it."""

    text = serializers.SerializerMethodField()

    def get_text(self, item) -> str:
        return describe(item)


class SignedIn:
    permission_classes = [IsAuthenticated]
    # The demo does not install rest_framework's app, so no browsable API.
    renderer_classes = [JSONRenderer, ActivityStreamsRenderer]


class HomeViewSet(SignedIn, TimelineViewSet):
    serializer_class = PostSerializer
    schema = AutoSchema(operation_id_base="Home")

    def get_timeline_key(self):
        return self.request.user.home_key()

    # Pulled keys as (key, author) pairs, as the home page reads them: a blocked or muted author's is not read.
    get_timeline_sources = HomeView.get_timeline_sources


class NotificationsViewSet(SignedIn, NotificationViewSet):
    serializer_class = notification_serializer_class = NoticeSerializer

    def get_timeline_key(self):
        return self.request.user.notifications_key()


router = routers.SimpleRouter()
router.register("home", HomeViewSet, basename="api-home")
router.register("notifications", NotificationsViewSet, basename="api-notifications")
urlpatterns = router.urls
