"""The python code blocks of docs/rest.rst and docs/activitystreams.rst run as pasted, in order, page by page.

The pages write ``myapp.models`` for the reader's app: here it is the test app. Each
page's blocks run in one module, which is also the URLconf, so the ``urlpatterns`` a
page declares serve the requests it makes. ``author`` (three posts, "first" to
"third", the newest liked by a fan), ``json`` and ``timelines`` are given.
"""

import json
import re
import sys
import types
from pathlib import Path

import pytest
from django.test import override_settings

from django_timak import timelines
from tests import models
from tests.models import Like, Post
from tests.social import make_users

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"^\.\. code-block:: python\n\n((?:(?:    .*)?\n)+)", re.MULTILINE)


def code_blocks(page: str) -> list[str]:
    """Return the python code blocks of a docs page, dedented."""
    text = (DOCS / page).read_text()
    return [re.sub(r"^    ", "", block, flags=re.MULTILINE) for block in BLOCK.findall(text)]


@pytest.fixture
def author(django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setitem(sys.modules, "myapp", types.ModuleType("myapp"))
    monkeypatch.setitem(sys.modules, "myapp.models", models)
    author, fan = make_users("author", "fan")
    with django_capture_on_commit_callbacks(execute=True):
        posts = [Post.objects.create(author=author, body=body) for body in ("first", "second", "third")]
        Like.objects.create(user=fan, post=posts[-1])
    return author


@pytest.mark.parametrize(("page", "count"), [("rest.rst", 5), ("activitystreams.rst", 2)])
def test_the_code_blocks_of_the_page_run_as_pasted(page, count, author, monkeypatch):
    blocks = code_blocks(page)
    assert len(blocks) == count
    module = types.ModuleType("docs_snippets")
    module.__dict__.update(author=author, json=json, timelines=timelines, urlpatterns=[])
    monkeypatch.setitem(sys.modules, "docs_snippets", module)
    with override_settings(ROOT_URLCONF="docs_snippets"):
        for block in blocks:
            exec(compile(block, f"docs/{page}", "exec"), module.__dict__)
