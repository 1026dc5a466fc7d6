"""The README's Quick start, pasted as written into a new project, works: no warning, a post on its timeline."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from django_timak import timelines
from tests.social import make_users, ref

README = Path(__file__).resolve().parent.parent / "README.rst"
BLOCK = re.compile(r"^\.\. code-block:: (\S+)\n\n((?:    .*\n|\n)+)", re.M)


def quick_start_blocks():
    """Return ``[(language, text)]`` of the Quick start's code blocks, dedented."""
    text = README.read_text()
    section = text[text.index(".. quick-start-begin"):text.index("The core API needs no model")]
    return [(language, re.sub(r"^    ", "", body, flags=re.M).strip() + "\n") for language, body in BLOCK.findall(section)]


def paste(project: Path, env: dict) -> list[str]:
    """Write the Quick start's files and run its commands in ``project``; return the commands' output."""
    said = []
    for language, body in quick_start_blocks():
        if language == "console":
            for command in re.findall(r"^\$ (.*)$", body, re.M):
                if "runserver" in command:
                    continue
                done = subprocess.run(command, shell=True, cwd=project, env=env, capture_output=True, text=True, timeout=120)
                assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
                if command.startswith("django-admin"):
                    project = project / "mysite"
                said.append(done.stdout + done.stderr)
            continue
        first, _, rest = body.partition("\n")
        path = re.sub(r"^(#|\{#)\s*|\s*#\}$", "", first).split(" (")[0]
        target = project / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if "(at the end)" in first:
            target.write_text(target.read_text() + "\n" + rest)
        else:
            target.write_text(rest if language != "html+django" else body.partition("\n")[2])
    return said, project


FETCH = """
from django.test import Client
c = Client(HTTP_HOST="localhost")
print(c.get("/users/1/").content.decode())
print(c.get("/users/1/?format=json").content.decode())
print(c.get("/users/1/latest/").content.decode())
"""


@pytest.mark.subprocess
@pytest.mark.slow
def test_the_quick_start_as_pasted_shows_a_post_without_warnings(tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    said, project = paste(tmp_path, env)
    assert not [line for line in "".join(said).splitlines() if "W040" in line or "WARNING" in line]
    env["DJANGO_ALLOWED_HOSTS"] = "testserver"
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", FETCH], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert '<article class="timak-item">Hello, timelines</article>' in done.stdout
    assert '"text": "Hello, timelines"' in done.stdout and '"id": "blog.post:1"' in done.stdout
    assert "<li>Hello, timelines</li>" in done.stdout


@pytest.mark.django_db
def test_the_default_item_is_the_rows_str_linked_to_its_url(client, monkeypatch):
    (ann,) = make_users("ann")
    monkeypatch.setattr(type(ann), "get_absolute_url", lambda self: f"/people/{self.pk}/", raising=False)
    timelines["default"].add("topic:first-steps", ref(ann), timezone.now())
    html = client.get("/topics/first-steps/").content.decode()
    assert f'<article class="timak-item"><a href="/people/{ann.pk}/">ann</a></article>' in html
    [item] = client.get("/topics/first-steps/?format=json").json()["items"]
    assert item == {
        "id": ref(ann), "score": item["score"], "data": None,
        "text": "ann", "url": f"http://testserver/people/{ann.pk}/",
    }
    timelines["default"].clear("topic:first-steps")


@pytest.mark.django_db
def test_a_row_without_a_url_is_its_str_alone(client):
    (ann,) = make_users("ann")
    timelines["default"].add("topic:plain", ref(ann), timezone.now())
    assert '<article class="timak-item">ann</article>' in client.get("/topics/plain/").content.decode()
    [item] = client.get("/topics/plain/?format=json").json()["items"]
    assert item["text"] == "ann" and "url" not in item
    timelines["default"].clear("topic:plain")
