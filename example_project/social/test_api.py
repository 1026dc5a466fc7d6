"""Smoke tests of the demo's DRF API: ``python manage.py test social`` (skipped without DRF)."""

from importlib.util import find_spec
from unittest import skipUnless

from django.test import override_settings
from django.urls import reverse

from .models import Like
from .tests import DemoTestCase


@skipUnless(find_spec("rest_framework"), "the API needs djangorestframework (pip install django-timak[rest])")
class APITests(DemoTestCase):
    def test_the_home_api_pages_the_home_timeline_with_each_posts_author(self):
        self.follow(self.alice, self.bob)
        posts = [self.post(self.bob, f"bob {i}") for i in range(3)]
        self.sign_in(self.alice)
        page = self.client.get("/api/home/", {"page_size": 2}).json()
        self.assertEqual([(p["author"], p["body"]) for p in page["results"]], [("bob", "bob 2"), ("bob", "bob 1")])
        rest = self.client.get(page["next"]).json()
        self.assertEqual([p["id"] for p in rest["results"]], [posts[0].pk])
        self.assertIsNone(rest["next"])
        back = self.client.get(rest["previous"]).json()
        self.assertEqual((back["results"], back["previous"]), (page["results"], None))

    def test_the_notifications_api_shows_groups_with_their_sentence_and_marks_them_read(self):
        post = self.post(self.alice, "likeable")
        for fan in (self.bob, self.carol):
            with self.fanned_out():
                Like.objects.create(user=fan, post=post)
        self.sign_in(self.alice)
        feed = self.client.get("/api/notifications/").json()
        (group,) = feed["results"]
        self.assertEqual((group["actor_count"], group["unread"], feed["unread"]), (2, True, 1))
        self.assertEqual(group["text"], "carol and bob liked your post")
        answer = self.client.post("/api/notifications/read/", {"up_to": group["score"]}, content_type="application/json")
        self.assertEqual(answer.json(), {"unread": 0, "unseen": 0})

    def test_the_home_api_answers_activity_streams(self):
        self.post(self.alice, "hello")
        page = self.client.get("/api/home/", {"format": "as2"}).json()
        self.assertEqual(page["type"], "OrderedCollectionPage")
        self.assertEqual(page["orderedItems"][0]["type"], "Create")

    def test_a_block_takes_the_blocked_users_posts_and_likes_off_the_api_at_once(self):
        self.follow(self.alice, self.bob)
        self.post(self.bob, "bob writes")
        mine = self.post(self.alice, "alice writes")
        with self.fanned_out():
            Like.objects.create(user=self.bob, post=mine)
        self.sign_in(self.alice)
        self.assertEqual(len(self.client.get("/api/home/").json()["results"]), 2)
        self.client.post(reverse("block", args=["bob"]))
        home = self.client.get("/api/home/", {"page_size": 1}).json()
        self.assertEqual(([p["body"] for p in home["results"]], home["next"]), (["alice writes"], None))
        feed = self.client.get("/api/notifications/").json()
        self.assertEqual((feed["results"], feed["unread"]), ([], 0))
        self.client.post(reverse("unblock", args=["bob"]))
        self.assertEqual(len(self.client.get("/api/home/").json()["results"]), 2)

    @override_settings(DEMO_PULL_ABOVE=0)
    def test_a_muted_pulled_author_leaves_the_api_home_too(self):
        self.follow(self.alice, self.carol)
        self.post(self.carol, "carol is pulled")
        self.sign_in(self.alice)
        self.assertEqual([p["author"] for p in self.client.get("/api/home/").json()["results"]], ["carol"])
        self.client.post(reverse("mute", args=["carol"]))
        self.assertEqual(self.client.get("/api/home/").json()["results"], [])

    def test_the_api_asks_for_a_signed_in_user(self):
        self.client.logout()
        self.assertEqual(self.client.get("/api/home/").status_code, 403)
