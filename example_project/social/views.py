"""The demo's pages: home and profile timelines (``TimelineView``), posting and following."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import LoginView
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from django_timak.notifications import mark_read
from django_timak.views import TimelineView

from .demodata import DEMO_ACCOUNTS, PASSWORD
from .forms import PostForm
from .models import Block, Follow, Like, Mute, Post, User, home_recipients, is_pulled, pulled_sources
from .blocks import user_ref
from .notices import describe
from .stored import backend_name, stored_keys


def back(request, default="home"):
    """Redirect to the page the form came from (``next``), if it is on this site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect(default)


def suggestions(user, count=5):
    """Return the most followed users that ``user`` does not follow yet."""
    return (
        User.objects.exclude(pk=user.pk)
        .exclude(followers__follower=user)
        .annotate(follower_count=Count("followers"))
        .order_by("-follower_count", "username")[:count]
    )


class SignInView(LoginView):
    """Django's login, with one-click buttons for the seeded demo accounts."""

    def get_context_data(self, **kwargs):
        found = set(User.objects.filter(username__in=DEMO_ACCOUNTS).values_list("username", flat=True))
        accounts = [name for name in DEMO_ACCOUNTS if name in found]
        return super().get_context_data(demo_accounts=accounts, demo_password=PASSWORD, **kwargs)


class PostTimelineView(TimelineView):
    """A timeline of posts; as JSON (``?format=json``), each post with its author and body."""

    def serialize_item(self, item, entry):
        return {"id": entry.id, "author": item.author.username, "body": item.body, "created": item.created}


class HomeView(LoginRequiredMixin, PostTimelineView):
    """The signed-in user's home timeline: their posts and those of everyone they follow."""

    template_name = "social/home.html"

    def get_timeline_key(self):
        return self.request.user.home_key()

    def get_timeline_sources(self):
        """Return the pulled keys as ``(key, author)`` pairs: a blocked or muted author's key is not read."""
        return [(key, user_ref(key.split(":")[1])) for key in pulled_sources(self.request.user)]

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            form=PostForm(),
            stored=stored_keys(user, kwargs.get("timeline_keys", ())),
            pulled=is_pulled(user),
            backend=backend_name(),
            follower_count=Follow.objects.filter(followee=user).count(),
            suggestions=suggestions(user),
            **kwargs,
        )


class ProfileView(PostTimelineView):
    """One user's own posts, with follow and unfollow."""

    template_name = "social/profile.html"
    timeline_kind = "profile"

    @cached_property
    def profile(self):
        return get_object_or_404(User, username=self.kwargs["username"])

    def get_timeline_key(self):
        return self.profile.profile_key()

    def get_context_data(self, **kwargs):
        viewer = self.request.user
        profile = self.profile
        return super().get_context_data(
            profile=profile,
            is_following=viewer.is_authenticated and Follow.objects.filter(follower=viewer, followee=profile).exists(),
            is_blocking=viewer.is_authenticated and Block.objects.filter(blocker=viewer, blocked=profile).exists(),
            is_muting=viewer.is_authenticated and Mute.objects.filter(muter=viewer, muted=profile).exists(),
            post_count=Post.objects.filter(author=profile).count(),
            follower_count=Follow.objects.filter(followee=profile).count(),
            following_count=Follow.objects.filter(follower=profile).count(),
            **kwargs,
        )


@login_required
@require_POST
def create_post(request):
    form = PostForm(request.POST)
    if form.is_valid():
        form.instance.author = request.user
        post = form.save()
        if Post.home_timeline.pulled(post):
            messages.success(request, "Posted to your profile timeline only: your followers' home pages pull it from there.")
        else:
            homes = len(home_recipients(post))
            messages.success(request, f"Posted to your profile timeline and {homes} home timeline{pluralize(homes)}.")
    else:
        messages.error(request, " ".join(form.errors.get("body", ["The post is invalid."])))
    return redirect("home")


@login_required
def edit_post(request, pk):
    post = get_object_or_404(Post, pk=pk, author=request.user)
    form = PostForm(request.POST or None, instance=post)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Post updated everywhere it appears.")
        return back(request)
    next_url = request.POST.get("next") or request.GET.get("next", "")
    return render(request, "social/edit_post.html", {"form": form, "post": post, "next": next_url})


@login_required
@require_POST
def delete_post(request, pk):
    get_object_or_404(Post, pk=pk, author=request.user).delete()
    messages.success(request, "Post deleted from every timeline it was in.")
    return back(request)


@login_required
@require_POST
def follow(request, username):
    followee = get_object_or_404(User, username=username)
    if followee != request.user:
        Follow.objects.get_or_create(follower=request.user, followee=followee)
        messages.success(request, f"You follow {followee.username}: their recent posts are on your home timeline.")
    return back(request)


@login_required
@require_POST
def unfollow(request, username):
    followee = get_object_or_404(User, username=username)
    Follow.objects.filter(follower=request.user, followee=followee).delete()
    messages.success(request, f"You unfollowed {followee.username}: their posts left your home timeline.")
    return back(request)


@login_required
@require_POST
def like(request, pk):
    """Like a post, or unlike it if the user already does: its author's notifications follow."""
    post = get_object_or_404(Post, pk=pk)
    deleted, _ = Like.objects.filter(user=request.user, post=post).delete()
    if deleted:
        messages.success(request, "You no longer like that post.")
    else:
        Like.objects.create(user=request.user, post=post)
        messages.success(request, "You like that post: its author is notified.")
    return back(request)


class NotificationsView(LoginRequiredMixin, TimelineView):
    """What happened to the signed-in user: likes of one post as one item, new followers by day.

    Opening the page marks what it shows as seen; as JSON each item carries its sentence.
    """

    template_name = "social/notifications.html"
    timeline_kind = "notifications"
    track_unread = True

    def get_timeline_key(self):
        return self.request.user.notifications_key()

    def serialize_item(self, item, entry):
        return {**super().serialize_item(item, entry), "text": describe(item)}


@login_required
@require_POST
def read_notifications(request):
    """Mark one item read (``id`` and the ``score`` it had when opened) or all up to ``score``, then go on."""
    try:
        score = int(request.POST.get("score", ""))
    except ValueError:
        messages.error(request, "That notification cannot be marked read.")
        return redirect("notifications")
    key = request.user.notifications_key()
    if request.POST.get("all"):
        mark_read("default", key, up_to=score)
    else:
        mark_read("default", key, {request.POST.get("id", ""): score})
    return back(request, default="notifications")
