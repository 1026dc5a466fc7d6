"""rebuild_timelines: restores emptied timelines exactly, appends to each key once per flush, twice shows the same."""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_timak import timelines
from django_timak.backends.memory import MemoryBackend
from django_timak.exceptions import TimelineBackendError
from django_timak.models import StoredTimeline, TimelineDelta
from tests.models import Photo, Post
from tests.social import follow, make_users

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clear_memory")]


@pytest.fixture
def site(django_capture_on_commit_callbacks):
    """Three authors, a follow graph, 45 posts (some drafts) and 6 photos, saved through fan-out."""
    alice, bob, carol, dave = make_users("alice", "bob", "carol", "dave")
    for follower, followee in [(bob, alice), (carol, alice), (dave, bob), (alice, carol)]:
        follow(follower, followee)
    start = timezone.now() - timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(45):
            author = (alice, bob, carol)[i % 3]
            Post.objects.create(author=author, body=f"post {i}", created=start + timedelta(minutes=i // 2), published=i % 7 != 0)
        for i in range(6):
            Photo.objects.create(owner=(alice, bob)[i % 2], caption=f"photo {i}", taken=start + timedelta(minutes=i))


def state():
    """Return every stored timeline as (id, score, data) lists, per alias and key."""
    found = {}
    stored = set(StoredTimeline.objects.values_list("key", flat=True)) | set(TimelineDelta.objects.values_list("key", flat=True))
    for key in sorted(stored):
        found["default", key] = [(e.id, e.score, e.data) for e in timelines["default"].get(key, raw=True)]
    for key in timelines["memory"].backend.keys():
        found["memory", key] = [(e.id, e.score, e.data) for e in timelines["memory"].get(key, raw=True)]
    return found


def empty_every_timeline():
    StoredTimeline.objects.all().delete()
    TimelineDelta.objects.all().delete()
    timelines["memory"].backend.clear()


def rebuild(*args, **options):
    out = io.StringIO()
    call_command("rebuild_timelines", *args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_rebuilding_emptied_timelines_restores_them_exactly_and_twice_gives_the_same_timelines(site):
    before = state()
    assert len(before) == 3 + 4 + 3  # profiles and homes in the database, profiles in memory
    empty_every_timeline()
    summary = rebuild()
    assert state() == before
    assert re.fullmatch(r"Wrote \d+ items from 51 rows of \d model\(s\) to 10 keys in 2 batches \(\d+\.\ds\)\.\n", summary)
    rebuild()
    assert state() == before


def test_each_key_is_appended_to_once_per_flush_and_rows_are_read_newest_first_in_one_streamed_query(site):
    empty_every_timeline()
    with CaptureQueriesContext(connection) as queries:
        rebuild("tests.Post", batch_size=10)
    post_reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "tests_post"')]
    # The rows, streamed in chunks of 10, in one query; after the flush, which of the rows written still exist.
    assert post_reads[0].endswith('ORDER BY "tests_post"."created" DESC, "tests_post"."id" ASC')
    published = Post.objects.filter(published=True).count()
    assert len(post_reads) == 1 + -(-published // 10) and all(" IN (" in sql for sql in post_reads[1:])
    appends = {key: TimelineDelta.objects.filter(key=key).count() for key in TimelineDelta.objects.values_list("key", flat=True)}
    assert appends and set(appends.values()) == {1}  # 45 rows held well under the memory bound: one flush


def test_a_dry_run_writes_nothing(site):
    empty_every_timeline()
    summary = rebuild(dry_run=True, clear=True)
    assert summary.startswith("Would write ") and "would clear 10 keys" in summary
    assert state() == {}


def test_clear_drops_items_no_row_backs_and_keeps_the_rest(site):
    before = state()
    key = next(k for alias, k in before if alias == "default" and k.endswith(":posts"))
    timelines["default"].add(key, "tests.post:999999", 1)
    rebuild()
    assert "tests.post:999999" in [e.id for e in timelines["default"].get(key, raw=True)]
    assert "cleared 10 keys" in rebuild(clear=True)
    assert state() == before


def test_one_timeline_alias_or_one_model(site):
    before = state()
    empty_every_timeline()
    rebuild(timeline="memory")
    assert state() == {k: v for k, v in before.items() if k[0] == "memory"}
    rebuild("tests.Photo")
    photos = {k: [i for i in v if i[0].startswith("tests.photo:")] for k, v in before.items() if k[0] == "default"}
    assert state() == {**{k: v for k, v in before.items() if k[0] == "memory"}, **{k: v for k, v in photos.items() if v}}


@pytest.mark.parametrize(
    "args, options, message",
    [
        (["tests.Nope"], {}, "App 'tests' doesn't have a 'Nope' model"),
        (["nope"], {}, "models are named app_label.Model"),
        (["tests.Follow"], {}, "tests.Follow declares no TimelineField"),
        ([], {"timeline": "nowhere"}, "--timeline 'nowhere' is not an alias of TIMAK_TIMELINES"),
        (["tests.Photo"], {"timeline": "memory"}, "no TimelineField matches --timeline 'memory'"),
        ([], {"batch_size": 0}, "--batch-size must be at least 1"),
    ],
)
def test_bad_arguments_are_command_errors(args, options, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        rebuild(*args, **options)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_progress_bar_on_a_terminal_only(site):
    out = Terminal()
    call_command("rebuild_timelines", "tests.Post", batch_size=20, stdout=out)
    shown = out.getvalue()
    assert "\rtests.Post [#############.................] 20/45 rows" in shown
    assert re.search(r"\rtests\.Post \[#{30}\] 45/45 rows [\d,]+ rows/s\n", shown)
    plain = rebuild("tests.Post", batch_size=20)
    assert "\r" not in plain and plain.startswith("Wrote ")
    assert rebuild("tests.Post", verbosity=0) == ""


class DownBackend(MemoryBackend):
    def _refuse(self, key, *args):
        raise TimelineBackendError("connection refused", key=key)

    read = append = _refuse


def test_writes_that_fail_are_named_and_fail_the_command(site, settings):
    settings.TIMAK_TIMELINES = {**settings.TIMAK_TIMELINES, "memory": {"BACKEND": "tests.test_rebuild.DownBackend"}}
    err = io.StringIO()
    with pytest.raises(CommandError, match="3 key writes failed"):
        call_command("rebuild_timelines", "tests.Post", stdout=io.StringIO(), stderr=err)
    assert re.search(r"memory:'user:\d+:posts': connection refused", err.getvalue())


def test_recipients_are_asked_once_per_batch_and_give_the_keys_the_per_row_callable_gives(site, monkeypatch):
    field = Post.home_timeline
    asked = []
    monkeypatch.setattr(field, "recipients_many", lambda rows, real=field.recipients_many: (asked.append(len(rows)), real(rows))[1])
    before = state()
    empty_every_timeline()
    rebuild("tests.Post", batch_size=20)
    posts = list(Post.objects.order_by("pk"))
    posts.sort(key=lambda p: (-p.created.timestamp(), p.pk))  # read newest first
    assert asked == [sum(p.published for p in posts[i : i + 20]) for i in (0, 20, 40)]  # once per batch
    assert {k: v for k, v in state().items() if k[1].endswith(":home")} == {k: v for k, v in before.items() if k[1].endswith(":home")}
