from importlib.util import find_spec

from django.urls import include, path

from . import account_views, views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("posts/new/", views.create_post, name="create_post"),
    path("posts/<int:pk>/edit/", views.edit_post, name="edit_post"),
    path("posts/<int:pk>/delete/", views.delete_post, name="delete_post"),
    path("posts/<int:pk>/like/", views.like, name="like"),
    path("notifications/", views.NotificationsView.as_view(), name="notifications"),
    path("notifications/read/", views.read_notifications, name="read_notifications"),
    path("@<str:username>/", views.ProfileView.as_view(), name="profile"),
    path("@<str:username>/follow/", views.follow, name="follow"),
    path("@<str:username>/unfollow/", views.unfollow, name="unfollow"),
    path("@<str:username>/block/", account_views.block, name="block"),
    path("@<str:username>/unblock/", account_views.unblock, name="unblock"),
    path("@<str:username>/mute/", account_views.mute, name="mute"),
    path("@<str:username>/unmute/", account_views.unmute, name="unmute"),
    path("account/delete/", account_views.delete_account, name="delete_account"),
]
# The JSON API (social/api.py) needs Django REST framework: pip install django-timak[rest].
if find_spec("rest_framework"):
    urlpatterns.append(path("api/", include("social.api")))
