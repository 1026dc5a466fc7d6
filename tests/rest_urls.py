"""The DRF face's test URLs: a profile page of posts and photos, a home feed viewset, a notification feed."""

from django.urls import include, path
from rest_framework import routers, serializers
from rest_framework.permissions import IsAuthenticated

from django_timak.rest.views import NotificationViewSet, TimelineListAPIView, TimelineViewSet
from tests.models import Photo, Post


class PostSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")

    class Meta:
        model = Post
        fields = ["id", "author", "body", "created"]


class HomePostSerializer(PostSerializer):
    """A name of its own, so that schemas give each list operation its own id."""


class TopicPostSerializer(PostSerializer):
    """A name of its own, so that schemas give each list operation its own id."""


class PhotoSerializer(serializers.ModelSerializer):
    class Meta:
        model = Photo
        fields = ["id", "caption"]


class ProfileAPIView(TimelineListAPIView):
    serializer_class = PostSerializer
    serializer_classes = {Photo: PhotoSerializer}

    def get_timeline_key(self):
        return f"user:{self.kwargs['user_id']}:posts"


class TopicAPIView(TimelineListAPIView):
    serializer_class = TopicPostSerializer

    def get_timeline_key(self):
        return f"topic:{self.kwargs['topic']}"


class HomeViewSet(TimelineViewSet):
    serializer_class = HomePostSerializer
    serializer_classes = {Photo: PhotoSerializer}
    permission_classes = [IsAuthenticated]

    def get_timeline_key(self):
        return f"user:{self.request.user.pk}:home"

    def get_timeline_sources(self):
        return [f"user:{pk}:posts" for pk in self.request.query_params.getlist("pulled")]


class NotificationsViewSet(NotificationViewSet):
    permission_classes = [IsAuthenticated]
    notification_verb = "like"

    def get_timeline_key(self):
        return f"user:{self.request.user.pk}:notifications"


router = routers.SimpleRouter()
router.register("home", HomeViewSet, basename="home")
router.register("notifications", NotificationsViewSet, basename="notifications")

urlpatterns = [
    path("api/users/<int:user_id>/posts/", ProfileAPIView.as_view(), name="api-profile"),
    path("api/topics/<str:topic>/", TopicAPIView.as_view(), name="api-topic"),
    path("api/", include(router.urls)),
]
