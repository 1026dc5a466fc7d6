"""Case 11: the demo's post button, followed by everyone or by no one, with the demo's own settings.

A post by the most-followed demo user fans out to nearly every home timeline in the
request (the demo's default: inline fan-out on the database backend); its floor is
the same request by a user nobody follows. Both go through the example project's
view with Django's test client (POST, then the home page it redirects to), on a
seeded demo database of its own, in a child process (the demo is a project of its
own).
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ..measure import Stats
from ..report import ratio_row

ROOT = Path(__file__).resolve().parents[2]


def run(config):
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "demo.settings", "TIMAK_DEMO_DB": str(Path(folder) / "demo.sqlite3")}
        env.pop("TIMAK_RIAK_URL", None)
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.cases.demo", str(config.runs), str(config.demo_posts)],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )
    if child.returncode:
        raise RuntimeError(f"the demo case failed:\n{child.stderr}")
    found = json.loads(child.stdout.strip().splitlines()[-1])
    subject, floor = Stats(**found["followed"]), Stats(**found["alone"])
    return [ratio_row("11 demo post", f"to {found['followers']} followers", "ms", subject, floor,
                      "a post nobody follows", limit=3, scale=1000)]


def measure(runs: int, posts: int) -> dict:
    """Seed the demo and time its post button for the most-followed user and for a user alone."""
    import django

    sys.path.insert(0, str(ROOT / "example_project"))
    django.setup()
    from django.core.management import call_command
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from social.models import User

    from ..measure import compare

    setup_test_environment()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", posts=posts, verbosity=0)
    star = User.objects.annotate(n=Count("followers")).order_by("-n").first()
    alone = User.objects.create(username="nobody-follows-me")
    clients = {}
    for user in (star, alone):
        clients[user] = Client()
        clients[user].force_login(user)

    def post(user):
        response = clients[user].post(reverse("create_post"), {"body": "timed"}, follow=True)
        assert response.status_code == 200 and b"Posted to your profile timeline" in response.content

    followed, floor = compare(lambda: post(star), lambda: post(alone), runs)
    return {"followed": vars(followed), "alone": vars(floor), "followers": star.followers.count()}


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]), int(sys.argv[2]))))
