from django.urls import path

from tests import views

urlpatterns = [
    path("users/<int:user_id>/posts/", views.ProfileView.as_view(), name="profile"),
    path("home/", views.HomeView.as_view(), name="home"),
    path("topics/<str:topic>/", views.TopicView.as_view(), name="topic"),
]
