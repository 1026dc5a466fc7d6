"""Timeline views of the test project."""

from django.contrib.auth.mixins import LoginRequiredMixin

from django_timak.views import TimelineView
from tests.models import Post


class ProfileView(TimelineView):
    """A user's posts: the key comes from the URL, since profiles are public."""

    def get_timeline_key(self):
        return f"user:{self.kwargs['user_id']}:posts"

    def serialize_item(self, item, entry):
        if isinstance(item, Post):
            return {"id": entry.id, "author": item.author.username, "body": item.body}
        return super().serialize_item(item, entry)


class HomeView(LoginRequiredMixin, TimelineView):
    """The signed-in user's home timeline: the key comes from the session, never the client."""

    paginate_by = 10
    template_name = "tests/home.html"

    def get_timeline_key(self):
        return f"user:{self.request.user.pk}:home"


class TopicView(TimelineView):
    """A topic's timeline, keyed by free text from the URL."""

    def get_timeline_key(self):
        return f"topic:{self.kwargs['topic']}"
