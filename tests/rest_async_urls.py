"""The DRF face's test URLs with the async views beside the sync ones: the same views under ``api/async/``.

Besides ``rest_urls``' views, a home of remarks (items that name their author) whose
pulled sources are ``(key, author)`` pairs and whose excluded actors are read from the
ORM by the hook (``?without=`` usernames), and one whose hook answers nonsense.
"""

from django.urls import include, path
from rest_framework import routers, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.schemas.openapi import AutoSchema

from django_timak.rest.async_views import AsyncNotificationViewSet, AsyncTimelineListAPIView, AsyncTimelineViewSet
from django_timak.rest.views import TimelineViewSet
from tests import rest_urls
from tests.models import Remark, User


class RemarkSerializer(serializers.ModelSerializer):
    class Meta:
        model = Remark
        fields = ["id", "body"]


class RemarksViewSet(TimelineViewSet):
    serializer_class = RemarkSerializer
    permission_classes = [IsAuthenticated]

    def get_timeline_key(self):
        return f"remarks:{self.request.user.pk}:home"

    def get_timeline_sources(self):
        return [(f"remarks:{pk}", f"tests.user:{pk}") for pk in self.request.query_params.getlist("pulled")]

    def get_excluded_actors(self):
        return list(User.objects.filter(username__in=self.request.query_params.getlist("without")))


class BrokenRemarksViewSet(RemarksViewSet):
    schema = AutoSchema(operation_id_base="BrokenRemarks")

    def get_excluded_actors(self):
        return 42


class AsyncProfileAPIView(AsyncTimelineListAPIView, rest_urls.ProfileAPIView):
    schema = AutoSchema(operation_id_base="AsyncProfile")


class AsyncTopicAPIView(AsyncTimelineListAPIView, rest_urls.TopicAPIView):
    schema = AutoSchema(operation_id_base="AsyncTopic")


class AsyncHomeViewSet(AsyncTimelineViewSet, rest_urls.HomeViewSet):
    schema = AutoSchema(operation_id_base="AsyncHome")


class AsyncNotificationsViewSet(AsyncNotificationViewSet, rest_urls.NotificationsViewSet):
    schema = AutoSchema(operation_id_base="AsyncNotifications")


class AsyncRemarksViewSet(AsyncTimelineViewSet, RemarksViewSet):
    schema = AutoSchema(operation_id_base="AsyncRemarks")


class AsyncBrokenRemarksViewSet(AsyncTimelineViewSet, BrokenRemarksViewSet):
    schema = AutoSchema(operation_id_base="AsyncBrokenRemarks")


synced = routers.SimpleRouter()
synced.register("remarks", RemarksViewSet, basename="remarks")
synced.register("broken", BrokenRemarksViewSet, basename="broken")
router = routers.SimpleRouter()
router.register("home", AsyncHomeViewSet, basename="async-home")
router.register("notifications", AsyncNotificationsViewSet, basename="async-notifications")
router.register("remarks", AsyncRemarksViewSet, basename="async-remarks")
router.register("broken", AsyncBrokenRemarksViewSet, basename="async-broken")

urlpatterns = [
    *rest_urls.urlpatterns,
    path("api/", include(synced.urls)),
    path("api/async/users/<int:user_id>/posts/", AsyncProfileAPIView.as_view()),
    path("api/async/topics/<str:topic>/", AsyncTopicAPIView.as_view()),
    path("api/async/", include(router.urls)),
]
