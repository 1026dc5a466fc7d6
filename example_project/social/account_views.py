"""Blocking, muting and deleting one's account: the reader's exclusions and an erasure, at read time."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from .models import Block, Mute, User
from .views import back


def _relation(model, mine, theirs, create: bool, message: str):
    """Return a view that records (``create``) or removes the signed-in user's ``model`` row about another user."""

    @login_required
    @require_POST
    def view(request, username):
        other = get_object_or_404(User.objects.exclude(pk=request.user.pk), username=username)
        rows = {mine: request.user, theirs: other}
        if create:
            model.objects.get_or_create(**rows)
        else:
            model.objects.filter(**rows).delete()
        messages.success(request, message.format(other.username))
        return back(request)

    return view


#: Neither sees the other's posts, likes or follows from the next page on.
block = _relation(Block, "blocker", "blocked", True, "You blocked {}: neither of you sees the other any more.")
unblock = _relation(Block, "blocker", "blocked", False, "You unblocked {}.")
#: Their posts leave your home page; their profile and notifications stay.
mute = _relation(Mute, "muter", "muted", True, "You muted {}: their posts are off your home page.")
unmute = _relation(Mute, "muter", "muted", False, "You unmuted {}.")


@login_required
@require_POST
def delete_account(request):
    """Delete the signed-in user: the erasure takes their posts, likes and follows off every page at once."""
    user = request.user
    logout(request)
    user.delete()
    messages.success(request, "Your account and everything you posted are gone.")
    return redirect("login")
