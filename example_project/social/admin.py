from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Follow, Post, User


@admin.register(User)
class DemoUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("Profile", {"fields": ["bio"]}),)
    list_display = ["username", "first_name", "last_name", "bio", "is_staff"]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    """Edits and deletes here fan out like the site's: the admin saves through the model."""

    list_display = ["author", "created", "body"]
    list_select_related = ["author"]
    search_fields = ["body", "author__username"]
    date_hierarchy = "created"
    raw_id_fields = ["author"]


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ["follower", "followee", "created"]
    list_select_related = ["follower", "followee"]
    search_fields = ["follower__username", "followee__username"]
    raw_id_fields = ["follower", "followee"]
