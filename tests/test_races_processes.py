"""Deleted posts stay deleted under several processes that post, delete, follow and unfollow.

Four posters (each deleting one post in seven) and four followers (following and
unfollowing them at random) run as separate processes on one SQLite database, as
under ``gunicorn -w 4``. Afterwards no home timeline shows a deleted post, and each
follower's home holds the newest posts of every author they follow. More load:
``TIMAK_RACE_ITERATIONS=400 make test PYTEST_ARGS="-k processes"``.
"""

import json
import os
import subprocess
import sys

import pytest
from django.db import connection

from django_timak import timelines
from tests.checkout import ROOT, checkout_env
from tests.models import BACKFILL, Follow, Post
from tests.social import make_users, ref

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.subprocess, pytest.mark.slow]

ITERATIONS = int(os.environ.get("TIMAK_RACE_ITERATIONS", "60"))


def run_load(roles):
    overrides = {"DATABASES": {"default": {**connection.settings_dict, "NAME": connection.settings_dict["NAME"], "TEST": {}}}}
    env = checkout_env(DJANGO_SETTINGS_MODULE="tests.settings", TIMAK_TEST_OVERRIDES=json.dumps(overrides, default=str))
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.race_load", role, str(user.pk), str(ITERATIONS), str(seed)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for seed, (role, user) in enumerate(roles)
    ]
    for process in processes:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-3000:]


def test_no_deleted_post_is_visible_after_concurrent_posting_deleting_following_and_unfollowing():
    authors = make_users(*(f"author{n}" for n in range(4)))
    readers = make_users(*(f"reader{n}" for n in range(4)))
    run_load([("poster", a) for a in authors] + [("follower", r) for r in readers])
    existing = {ref(post) for post in Post.objects.all()}
    assert Post.objects.count() < 4 * ITERATIONS, "the posters deleted nothing"
    for reader in readers:
        shown = [e.id for e in timelines["default"].get(f"user:{reader.pk}:home", raw=True)]
        assert set(shown) <= existing, f"{reader.username} sees deleted posts: {sorted(set(shown) - existing)}"
        for author_id in Follow.objects.filter(follower=reader).values_list("followee_id", flat=True):
            newest = [ref(p) for p in Post.objects.filter(author_id=author_id).order_by("-created", "-pk")[:BACKFILL]]
            assert set(newest) <= set(shown), f"{reader.username} misses posts of an author they follow"
