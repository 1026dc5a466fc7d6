from django.contrib import admin
from django.urls import include, path

from social.views import SignInView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", SignInView.as_view(), name="login"),
    path("", include("django.contrib.auth.urls")),
    path("", include("social.urls")),
]
