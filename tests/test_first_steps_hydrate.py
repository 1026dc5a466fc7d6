"""django_timak.hydrate, as docs/reading.rst shows it: a page's entries become rows, in order, vanished ones skipped."""

import pytest
from django.utils import timezone

from django_timak import timelines
from django_timak.hydrate import hydrate, hydrate_pairs
from tests.models import Post
from tests.social import make_users

pytestmark = pytest.mark.django_db


def test_hydrate_turns_a_page_into_its_posts_newest_first(django_capture_on_commit_callbacks):
    (user,) = make_users("ann")
    with django_capture_on_commit_callbacks(execute=True):
        posts = [Post.objects.create(author=user, body=f"post {n}", created=timezone.now()) for n in range(3)]
    posts[1].delete()
    timelines["default"].add(f"user:{user.pk}:posts", "not-a-row", timezone.now(), obj_data={"note": 1})

    page = timelines["default"].page(f"user:{user.pk}:posts", limit=20)
    assert hydrate(page.entries) == [{"note": 1}, posts[2], posts[0]]
    scored = [(entry.score, post) for entry, post in hydrate_pairs(page.entries)]
    assert [post for _, post in scored] == [{"note": 1}, posts[2], posts[0]]
    assert scored[1][0] == page.entries[1].score
