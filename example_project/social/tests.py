"""Smoke tests of the demo through Django's test client: ``python manage.py test social``.

Fan-out runs after commit, and a TestCase never commits: ``fanned_out()`` runs the
commit callbacks of the requests it wraps, as a real commit would.
"""

import statistics
from collections import Counter
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.test import SimpleTestCase, TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from django_timak import timelines

from .demodata import PASSWORD, followees
from .models import Follow, Post, User, home_recipients, home_recipients_many


def refs(key):
    """Return the post pks a timeline shows, newest first."""
    return [int(entry.id.rpartition(":")[2]) for entry in timelines["default"].get(key, raw=True)]


class DemoTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        password = make_password(PASSWORD)
        cls.alice, cls.bob, cls.carol = (User.objects.create(username=n, password=password) for n in ("alice", "bob", "carol"))

    def fanned_out(self):
        return self.captureOnCommitCallbacks(execute=True)

    def sign_in(self, user):
        self.client.force_login(user)

    def follow(self, follower, followee):
        with self.fanned_out():
            Follow.objects.create(follower=follower, followee=followee)

    def post(self, author, body):
        self.sign_in(author)
        with self.fanned_out():
            self.client.post(reverse("create_post"), {"body": body})
        return Post.objects.get(author=author, body=body)


class SignInTests(DemoTestCase):
    def test_home_asks_to_sign_in(self):
        response = self.client.get(reverse("home"))
        self.assertRedirects(response, f"{reverse('login')}?next=/")

    def test_sign_in_page_offers_the_demo_accounts_that_exist(self):
        response = self.client.get(reverse("login"))
        self.assertEqual(response.context["demo_accounts"], ["alice", "bob", "carol"])

    def test_demo_password_signs_in(self):
        response = self.client.post(reverse("login"), {"username": "bob", "password": PASSWORD})
        self.assertRedirects(response, reverse("home"))


class TimelineTests(DemoTestCase):
    def test_a_post_reaches_the_author_and_every_follower(self):
        self.follow(self.bob, self.alice)
        post = self.post(self.alice, "Hello, followers")
        for user in (self.alice, self.bob):
            self.sign_in(user)
            self.assertContains(self.client.get(reverse("home")), "Hello, followers")
        self.assertEqual(refs(self.carol.home_key()), [])
        self.assertEqual(refs(self.alice.profile_key()), [post.pk])

    def test_the_bulk_recipients_are_the_per_post_ones(self):
        self.follow(self.bob, self.alice)
        self.follow(self.carol, self.alice)
        posts = [self.post(self.alice, "one"), self.post(self.bob, "two"), self.post(self.carol, "three")]
        bulk = home_recipients_many(posts)
        self.assertEqual({pk: sorted(users) for pk, users in bulk.items()}, {p.pk: sorted(home_recipients(p)) for p in posts})

    def test_posting_says_how_many_home_timelines_it_reached(self):
        self.follow(self.bob, self.alice)
        self.follow(self.carol, self.alice)
        self.sign_in(self.alice)
        with self.fanned_out():
            response = self.client.post(reverse("create_post"), {"body": "Counted homes"}, follow=True)
        self.assertContains(response, "Posted to your profile timeline and 3 home timelines.")

    def test_editing_a_post_shows_everywhere(self):
        self.follow(self.bob, self.alice)
        post = self.post(self.alice, "Frist post")
        form = self.client.get(reverse("edit_post", args=[post.pk]), {"next": "/"})
        self.assertContains(form, "Frist post")
        with self.fanned_out():
            response = self.client.post(reverse("edit_post", args=[post.pk]), {"body": "First post", "next": "/"})
        self.assertRedirects(response, "/")
        self.sign_in(self.bob)
        home = self.client.get(reverse("home"))
        self.assertContains(home, "First post")
        self.assertNotContains(home, "Frist post")

    def test_deleting_a_post_removes_it_from_every_timeline(self):
        self.follow(self.bob, self.alice)
        post = self.post(self.alice, "Soon gone")
        with self.fanned_out():
            self.client.post(reverse("delete_post", args=[post.pk]))
        for key in (self.alice.home_key(), self.alice.profile_key(), self.bob.home_key()):
            self.assertEqual(refs(key), [], key)

    def test_only_the_author_can_delete(self):
        post = self.post(self.alice, "Mine")
        self.sign_in(self.bob)
        self.assertEqual(self.client.post(reverse("delete_post", args=[post.pk])).status_code, 404)
        self.assertTrue(Post.objects.filter(pk=post.pk).exists())

    def test_following_backfills_and_unfollowing_removes(self):
        post = self.post(self.alice, "Posted before the follow")
        self.sign_in(self.bob)
        with self.fanned_out():
            self.client.post(reverse("follow", args=["alice"]))
        self.assertEqual(refs(self.bob.home_key()), [post.pk])
        with self.fanned_out():
            self.client.post(reverse("unfollow", args=["alice"]))
        self.assertEqual(refs(self.bob.home_key()), [])

    def test_profile_shows_own_posts_and_the_follow_button(self):
        self.post(self.alice, "On my profile")
        self.sign_in(self.bob)
        response = self.client.get(reverse("profile", args=["alice"]))
        self.assertContains(response, "On my profile")
        self.assertContains(response, reverse("follow", args=["alice"]))
        self.assertEqual(self.client.get(reverse("profile", args=["nobody"])).status_code, 404)


class PaginationTests(DemoTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        start = timezone.now() - timedelta(days=1)
        with cls.captureOnCommitCallbacks(execute=True):
            cls.posts = [
                Post.objects.create(author=cls.alice, body=f"Post {i}", created=start + timedelta(minutes=i))
                for i in range(45)
            ]

    def test_older_posts_walks_the_timeline_to_the_end(self):
        self.sign_in(self.alice)
        seen, url = [], reverse("home")
        while url:
            response = self.client.get(url)
            seen += [post.pk for post in response.context["object_list"]]
            url = response.context["next_url"]
        self.assertEqual(seen, [post.pk for post in reversed(self.posts)])

    def test_the_older_posts_link_is_a_plain_link(self):
        self.sign_in(self.alice)
        response = self.client.get(reverse("home"))
        self.assertContains(response, f'<a class="older" rel="next" href="{response.context["next_url"]}">', html=False)

    def test_an_older_page_links_back_to_the_newer_one(self):
        self.sign_in(self.alice)
        first = self.client.get(reverse("home"))
        self.assertNotContains(first, 'rel="prev"')
        second = self.client.get(first.context["next_url"])
        self.assertContains(second, f'<a class="newer" rel="prev" href="{second.context["previous_url"]}">', html=False)
        back = self.client.get(second.context["previous_url"])
        self.assertEqual(list(back.context["object_list"]), list(first.context["object_list"]))

    def test_json_pages(self):
        self.sign_in(self.alice)
        page = self.client.get(reverse("profile", args=["alice"]), {"format": "json"}).json()
        self.assertEqual(len(page["items"]), 20)
        self.assertEqual(page["items"][0]["id"], f"social.post:{self.posts[-1].pk}")
        self.assertEqual((page["items"][0]["author"], page["items"][0]["body"]), ("alice", "Post 44"))

    def test_a_bad_cursor_is_a_bad_request(self):
        self.sign_in(self.alice)
        self.assertEqual(self.client.get(reverse("home"), {"cursor": "not-a-cursor"}).status_code, 400)


class StoredPanelTests(DemoTestCase):
    def test_the_panel_shows_the_keys_and_what_they_hold(self):
        post = self.post(self.alice, "Counted")
        self.post(self.alice, "Also counted")
        with self.fanned_out():
            post.delete()
        panel = {stored.key: stored for stored in self.client.get(reverse("home")).context["stored"]}
        self.assertEqual(set(panel), {"user:%d:home" % self.alice.pk, "user:%d:posts" % self.alice.pk})
        profile = panel[self.alice.profile_key()]
        # Two posts and a delete, each appended beside what the key holds, until a read compacts them.
        self.assertEqual((profile.items, profile.tombstones, profile.siblings), (1, 1, 3))
        self.assertGreater(profile.size, 0)


@override_settings(DEMO_PULL_ABOVE=1)
class PullTests(DemoTestCase):
    """Accounts followed by more than DEMO_PULL_ABOVE users (here 1) are pulled, not pushed."""

    def setUp(self):
        self.dave = User.objects.create(username="dave")
        for reader in (self.bob, self.carol):
            self.follow(reader, self.alice)

    def home_page(self, user):
        self.sign_in(user)
        return self.client.get(reverse("home"))

    def test_a_pulled_account_posts_to_its_own_key_only_and_tops_every_followers_home(self):
        self.follow(self.bob, self.dave)
        self.post(self.dave, "Pushed earlier")
        self.sign_in(self.alice)
        with self.fanned_out():
            response = self.client.post(reverse("create_post"), {"body": "Pulled"}, follow=True)
        post = Post.objects.get(body="Pulled")
        self.assertContains(response, "Posted to your profile timeline only")
        self.assertEqual(refs(self.alice.profile_key()), [post.pk])
        for user in (self.alice, self.bob, self.carol):
            self.assertNotIn(post.pk, refs(user.home_key()))
            self.assertEqual(self.home_page(user).context["object_list"][0], post)

    def test_the_panel_shows_which_keys_the_page_read_and_which_were_pulled(self):
        self.post(self.alice, "Pulled")
        response = self.home_page(self.bob)
        self.assertEqual(response.context["timeline_keys"], (self.bob.home_key(), self.alice.profile_key()))
        panel = [(stored.key, stored.role, stored.read) for stored in response.context["stored"]]
        self.assertEqual(
            panel,
            [(self.bob.home_key(), "home", True), (self.alice.profile_key(), "pulled", True),
             (self.bob.profile_key(), "profile", False)],
        )
        self.assertContains(response, "This page read 2 keys at once")

    def test_following_a_pulled_account_copies_nothing_and_unfollowing_removes_it_at_once(self):
        post = self.post(self.alice, "Pulled")
        self.follow(self.dave, self.alice)
        self.assertEqual(refs(self.dave.home_key()), [])
        self.assertEqual(list(self.home_page(self.dave).context["object_list"]), [post])
        with self.fanned_out():
            self.client.post(reverse("unfollow", args=["alice"]))
        self.assertEqual(list(self.home_page(self.dave).context["object_list"]), [])

    def test_an_account_back_under_the_threshold_is_pushed_and_its_followers_keep_what_they_pulled(self):
        pulled = self.post(self.alice, "Pulled")
        self.sign_in(self.carol)
        with self.fanned_out():
            self.client.post(reverse("unfollow", args=["alice"]))
        pushed = self.post(self.alice, "Pushed again")
        for user in (self.alice, self.bob):
            self.assertEqual(refs(user.home_key()), [pushed.pk, pulled.pk])
            self.assertEqual(list(self.home_page(user).context["object_list"]), [pushed, pulled])
            self.assertEqual(self.home_page(user).context["timeline_keys"], (user.home_key(),))


class NotificationTests(DemoTestCase):
    def like(self, user, post):
        self.sign_in(user)
        with self.fanned_out():
            self.client.post(reverse("like", args=[post.pk]))

    def notifications(self, user):
        self.sign_in(user)
        return self.client.get(reverse("notifications"), {"format": "json"}).json()

    def test_likes_of_one_post_are_one_item_naming_two_actors_and_the_others(self):
        post = self.post(self.alice, "likeable")
        fans = [User.objects.create(username=f"fan{i}") for i in range(3)]
        for user in [self.bob, self.carol, *fans]:
            self.like(user, post)
        [item] = self.notifications(self.alice)["items"]
        self.assertEqual(item["actor_count"], 5)
        self.assertEqual(item["text"], "fan2, fan1, fan0 and 2 others liked your post")
        self.assertEqual(item["target"], f"social.post:{post.pk}")

    def test_liking_twice_unlikes_and_the_actor_leaves_the_item(self):
        post = self.post(self.alice, "likeable")
        self.like(self.bob, post)
        self.like(self.carol, post)
        self.like(self.bob, post)
        [item] = self.notifications(self.alice)["items"]
        self.assertEqual((item["actor_count"], item["text"]), (1, "carol liked your post"))

    def test_new_followers_of_one_day_are_one_item(self):
        self.follow(self.bob, self.alice)
        self.follow(self.carol, self.alice)
        [item] = self.notifications(self.alice)["items"]
        self.assertEqual(item["id"], f"follow:{timezone.now():%Y-%m-%d}")
        self.assertEqual(item["text"], "carol and bob followed you")

    def test_the_top_bar_counts_unread_opening_the_page_marks_seen_and_opening_an_item_marks_it_read(self):
        post = self.post(self.alice, "likeable")
        self.like(self.bob, post)
        self.follow(self.carol, self.alice)
        self.sign_in(self.alice)
        self.assertContains(self.client.get(reverse("home")), '<span class="badge" data-unread>2</span>', html=True)
        page = self.client.get(reverse("notifications"))
        self.assertContains(page, "bob liked your post")
        answer = self.notifications(self.alice)
        self.assertEqual((answer["unread"], answer["unseen"]), (2, 0))
        like_item = next(i for i in answer["items"] if i["id"].startswith("like:"))
        opened = self.client.post(reverse("read_notifications"), {"id": like_item["id"], "score": like_item["score"]})
        self.assertEqual(opened.status_code, 302)
        self.assertContains(self.client.get(reverse("home")), '<span class="badge" data-unread>1</span>', html=True)
        self.client.post(reverse("read_notifications"), {"all": "1", "score": answer["items"][0]["score"]})
        self.assertNotContains(self.client.get(reverse("home")), "data-unread")

    def test_the_item_links_to_the_liked_post(self):
        post = self.post(self.alice, "likeable")
        self.like(self.bob, post)
        self.sign_in(self.alice)
        self.assertContains(self.client.get(reverse("notifications")), f"/@alice/#post-{post.pk}")


class SeedDemoTests(TestCase):
    def seed(self):
        with self.captureOnCommitCallbacks(execute=True):
            call_command("seed_demo", users=12, posts=80, verbosity=0)

    def test_timelines_fill_by_fan_out_and_a_second_run_changes_nothing(self):
        self.seed()
        counts = (User.objects.count(), Follow.objects.count(), Post.objects.count())
        alice = User.objects.get(username="alice")
        authors = [alice.pk, *Follow.objects.filter(follower=alice).values_list("followee_id", flat=True)]
        expected = list(Post.objects.filter(author__in=authors).order_by("-created").values_list("pk", flat=True))
        self.assertEqual(refs(alice.home_key()), expected)
        self.seed()
        self.assertEqual((User.objects.count(), Follow.objects.count(), Post.objects.count()), counts)
        self.assertEqual(counts[0], 12)
        self.assertEqual(counts[2], 80)



class DemoDataTests(SimpleTestCase):
    def test_a_few_users_are_followed_by_most(self):
        users = 300
        followers = Counter(followee for i in range(users) for followee in followees(i, users))
        counts = sorted((followers[i] for i in range(users)), reverse=True)
        self.assertGreater(counts[0], 0.9 * users)
        self.assertLess(statistics.median(counts), 0.1 * users)


class AdminTests(DemoTestCase):
    def test_admin_lists_users_posts_and_follows(self):
        admin = User.objects.create_superuser("admin", password=PASSWORD)
        self.post(self.alice, "In the admin")
        self.follow(self.bob, self.alice)
        self.client.force_login(admin)
        for model in ("user", "post", "follow"):
            self.assertEqual(self.client.get(reverse(f"admin:social_{model}_changelist")).status_code, 200, model)


class BlockMuteAndEraseTests(DemoTestCase):
    """Blocks and mutes apply from the very next page; deleting an account erases it everywhere."""

    def ids_on(self, reader, url):
        self.sign_in(reader)
        return [item["id"] for item in self.client.get(url, {"format": "json"}).json()["items"]]

    def setUp(self):
        self.follow(self.bob, self.alice)
        self.follow(self.alice, self.bob)
        self.by_alice = self.post(self.alice, "Alice writes")
        self.by_bob = self.post(self.bob, "Bob writes")

    def test_a_block_hides_both_ways_on_homes_profiles_and_notifications_at_once(self):
        with self.fanned_out():
            self.client.post(reverse("like", args=[self.by_alice.pk]))  # bob likes alice's post
        self.assertTrue(self.ids_on(self.alice, reverse("notifications")))
        with self.fanned_out():
            self.client.post(reverse("block", args=["bob"]))  # alice blocks bob
        self.assertEqual(self.ids_on(self.alice, reverse("home")), [f"social.post:{self.by_alice.pk}"])
        self.assertEqual(self.ids_on(self.alice, reverse("profile", args=["bob"])), [])
        self.assertEqual(self.ids_on(self.alice, reverse("notifications")), [])
        self.assertEqual(self.ids_on(self.bob, reverse("home")), [f"social.post:{self.by_bob.pk}"])
        self.sign_in(self.alice)
        with self.fanned_out():
            self.client.post(reverse("unblock", args=["bob"]))
        self.assertEqual(len(self.ids_on(self.alice, reverse("home"))), 2)

    def test_a_mute_hides_the_muted_from_my_home_only(self):
        self.sign_in(self.alice)
        self.client.post(reverse("mute", args=["bob"]))
        self.assertEqual(self.ids_on(self.alice, reverse("home")), [f"social.post:{self.by_alice.pk}"])
        self.assertEqual(self.ids_on(self.alice, reverse("profile", args=["bob"])), [f"social.post:{self.by_bob.pk}"])
        self.assertEqual(len(self.ids_on(self.bob, reverse("home"))), 2)

    def test_the_profile_offers_block_and_mute_and_my_own_offers_to_delete_my_account(self):
        self.sign_in(self.alice)
        self.assertContains(self.client.get(reverse("profile", args=["bob"])), "Block</button>")
        self.assertContains(self.client.get(reverse("profile", args=["bob"])), "Mute</button>")
        self.assertContains(self.client.get(reverse("profile", args=["alice"])), "Delete my account")

    def test_deleting_my_account_takes_my_posts_off_every_home_at_once(self):
        self.sign_in(self.bob)
        with self.fanned_out():
            self.client.post(reverse("delete_account"))
        self.assertFalse(User.objects.filter(username="bob").exists())
        self.assertEqual(self.ids_on(self.alice, reverse("home")), [f"social.post:{self.by_alice.pk}"])

    def test_the_top_bars_unread_count_leaves_a_blocked_users_like_out(self):
        self.sign_in(self.bob)
        with self.fanned_out():
            self.client.post(reverse("like", args=[self.by_alice.pk]))
        self.sign_in(self.alice)
        self.assertContains(self.client.get(reverse("profile", args=["alice"])), "data-unread>2<")  # bob follows her and likes her post
        self.client.post(reverse("block", args=["bob"]))
        self.assertNotContains(self.client.get(reverse("profile", args=["alice"])), "data-unread")

    def test_a_muted_pulled_author_leaves_my_home_too(self):
        with override_settings(DEMO_PULL_ABOVE=0):
            self.follow(self.alice, self.carol)
            pulled = self.post(self.carol, "Carol is pulled")
            self.assertIn(f"social.post:{pulled.pk}", self.ids_on(self.alice, reverse("home")))
            self.client.post(reverse("mute", args=["carol"]))
            self.assertNotIn(f"social.post:{pulled.pk}", self.ids_on(self.alice, reverse("home")))
