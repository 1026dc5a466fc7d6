"""End-to-end: the example project in a real headless Chromium, driven by Playwright.

The browser is Debian's ``chromium`` (Playwright's own browser downloads are not
possible here). The tests never install it (``.ci/run`` does, as root); without it
they skip, saying why. The site runs as ``make demo`` runs it:
migrated and seeded by its management commands, served by ``runserver`` on a free
loopback port, on a database of its own.
"""

import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.checkout import MANAGE, ROOT, example_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "artifacts"
#: Enough posts that a followed user's home timeline has several pages.
SEED = ["--users", "20", "--posts", "240"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does, as root)",
    ),
]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(env, *args):
    result = subprocess.run([sys.executable, str(MANAGE), *args], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"


def wait_for(url: str, server: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"runserver exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"runserver did not answer {url} within {timeout}s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Return the base URL of the seeded demo, served on a free loopback port."""
    workdir = tmp_path_factory.mktemp("demo")
    env = example_env(TIMAK_DEMO_DB=str(workdir / "db.sqlite3"))
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo", *SEED, "-v", "0")
    url = f"http://127.0.0.1:{free_port()}"
    log = workdir / "runserver.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, str(MANAGE), "runserver", "--noreload", url.removeprefix("http://")],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(f"{url}/login/", server, log)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def sign_in(browser, site, username, **options):
    """Return a page signed in as ``username`` through the sign-in page's demo buttons."""
    page = browser.new_context(viewport={"width": 1200, "height": 900}, **options).new_page()
    page.goto(f"{site}/login/")
    page.get_by_role("button", name=username, exact=True).click()
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    return page


def post(page, site, body):
    page.goto(f"{site}/")
    page.get_by_placeholder("What's happening?").fill(body)
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.locator(".timeline .post").first).to_contain_text(body)


def set_following(page, site, username, follow: bool):
    page.goto(f"{site}/@{username}/")
    wanted, other = ("Unfollow", "Follow") if follow else ("Follow", "Unfollow")
    if page.get_by_role("button", name=other, exact=True).is_visible():
        page.get_by_role("button", name=other, exact=True).click()
    expect(page.get_by_role("button", name=wanted, exact=True)).to_be_visible()


def test_post_reaches_a_follower_then_pages_edits_deletes_and_unfollows(browser, site):
    token = uuid.uuid4().hex[:8]
    first, second = f"First post {token}", f"Second post {token}"
    carol = sign_in(browser, site, "carol")
    bob = sign_in(browser, site, "bob")
    set_following(carol, site, "bob", follow=True)

    post(bob, site, first)
    post(bob, site, second)

    # Fan-out: both posts are at the top of the follower's home timeline, newest first.
    carol.goto(f"{site}/")
    posts = carol.locator(".timeline > .post")
    expect(posts.nth(0)).to_contain_text(second)
    expect(posts.nth(1)).to_contain_text(first)
    ARTIFACTS.mkdir(exist_ok=True)
    carol.screenshot(path=str(ARTIFACTS / "home-timeline.png"))

    # Older posts load in place: the same page grows by a page of older posts.
    expect(posts).to_have_count(20)
    carol.get_by_role("link", name="Older posts").click()
    expect(posts).to_have_count(40)
    assert carol.url == f"{site}/"

    # An edit shows on every timeline; a delete leaves none.
    bob.goto(f"{site}/")
    bob.locator(".post", has_text=second).get_by_role("link", name="Edit").click()
    bob.locator("textarea").fill(f"{second}, edited")
    bob.get_by_role("button", name="Save").click()
    bob.locator(".post", has_text=first).get_by_role("button", name="Delete").click()
    expect(bob.locator(".post", has_text=first)).to_have_count(0)
    carol.goto(f"{site}/")
    expect(posts.nth(0)).to_contain_text(f"{second}, edited")
    expect(carol.locator(".post", has_text=first)).to_have_count(0)

    # Unfollowing takes the followee's posts out of the home timeline.
    set_following(carol, site, "bob", follow=False)
    carol.goto(f"{site}/")
    expect(carol.locator(".post", has_text=second)).to_have_count(0)
    expect(carol.locator(".post .handle", has_text="@bob")).to_have_count(0)


def test_older_posts_is_a_link_without_javascript(browser, site):
    page = sign_in(browser, site, "alice", java_script_enabled=False)
    newest = page.locator(".timeline > .post").first.get_attribute("id")
    page.get_by_role("link", name="Older posts").click()
    expect(page).to_have_url(f"{site}/?cursor=" + page.url.partition("cursor=")[2])
    assert "cursor=" in page.url
    expect(page.locator(".timeline > .post")).to_have_count(20)
    expect(page.locator(f"#{newest}")).to_have_count(0)


def test_likes_of_a_post_are_one_notification_with_an_unread_badge_seen_and_read(browser, site):
    token = uuid.uuid4().hex[:8]
    body = f"Likeable post {token}"
    alice = sign_in(browser, site, "alice")
    alice.goto(f"{site}/notifications/")
    if alice.get_by_role("button", name="Mark all read").is_visible():
        alice.get_by_role("button", name="Mark all read").click()
    post(alice, site, body)
    expect(alice.locator("[data-unread]")).to_have_count(0)

    for name in ("bob", "carol"):
        fan = sign_in(browser, site, name)
        fan.goto(f"{site}/@alice/")
        fan.locator(".post", has_text=body).get_by_role("button", name="Like").click()
        expect(fan.locator(".messages")).to_contain_text("You like that post")

    # Two likes of one post: one unread item in the top bar, one item naming both.
    alice.goto(f"{site}/")
    expect(alice.locator("[data-unread]")).to_have_text("1")
    alice.get_by_role("link", name="Notifications").click()
    item = alice.locator(".notification", has_text=body)
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Carol and Bob liked your post")
    expect(item).to_have_class("notification unread unseen")
    ARTIFACTS.mkdir(exist_ok=True)
    alice.screenshot(path=str(ARTIFACTS / "notifications.png"))

    # Opening the page marked it seen; opening the item marks it read and shows the post.
    alice.reload()
    expect(item).to_have_class("notification unread")
    item.get_by_role("button", name="Carol and Bob liked your post").click()
    expect(alice).to_have_url(f"{site}/@alice/#" + alice.url.partition("#")[2])
    expect(alice.locator(".post", has_text=body)).to_be_visible()
    expect(alice.locator("[data-unread]")).to_have_count(0)
    alice.goto(f"{site}/notifications/")
    expect(alice.locator(".notification", has_text=body)).to_have_class("notification")


def test_a_block_takes_a_users_posts_likes_and_follows_off_the_page_at_once(browser, site):
    token = uuid.uuid4().hex[:8]
    mine, theirs = f"Carol's post {token}", f"Bob's post {token}"
    carol = sign_in(browser, site, "carol")
    bob = sign_in(browser, site, "bob")
    set_following(carol, site, "bob", follow=True)
    set_following(bob, site, "carol", follow=True)
    post(carol, site, mine)
    post(bob, site, theirs)
    bob.goto(f"{site}/@carol/")
    bob.locator(".post", has_text=mine).get_by_role("button", name="Like").click()
    expect(bob.locator(".messages")).to_contain_text("You like that post")

    carol.goto(f"{site}/")
    expect(carol.locator(".post", has_text=theirs)).to_have_count(1)
    carol.goto(f"{site}/notifications/")
    expect(carol.locator(".notification", has_text="Bob")).not_to_have_count(0)

    # The block: the very next pages leave Bob out, without a timeline rewritten.
    carol.goto(f"{site}/@bob/")
    carol.get_by_role("button", name="Block", exact=True).click()
    expect(carol.get_by_role("button", name="Unblock", exact=True)).to_be_visible()
    expect(carol.locator(".post", has_text=theirs)).to_have_count(0)
    carol.goto(f"{site}/")
    expect(carol.locator(".post", has_text=mine)).to_have_count(1)
    expect(carol.locator(".post", has_text=theirs)).to_have_count(0)
    carol.goto(f"{site}/notifications/")
    expect(carol.locator(".notification", has_text="Bob")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    carol.screenshot(path=str(ARTIFACTS / "blocked.png"))
    # Both ways: Bob no longer sees Carol's post on his home page.
    bob.goto(f"{site}/")
    expect(bob.locator(".post", has_text=mine)).to_have_count(0)

    carol.goto(f"{site}/@bob/")
    carol.get_by_role("button", name="Unblock", exact=True).click()
    carol.goto(f"{site}/")
    expect(carol.locator(".post", has_text=theirs)).to_have_count(1)
