"""``Timeline.append_changes``: fan-out without reading, merged on read, compacted when values pile up."""

import logging
import threading

import pytest
from django.db import connections
from django.test import override_settings

from django_timak import Timeline, codecs, timelines
from django_timak.backends.memory import MemoryBackend
from django_timak.checks import check_timelines
from django_timak.entries import Entry, tombstone
from django_timak.exceptions import InvalidData, InvalidTimelineInput, TimelineBackendError, TooManySiblings
from tests.test_append import DATABASES, build

MEMORY = "django_timak.backends.memory.MemoryBackend"


@pytest.fixture(params=["memory", "siblings", *DATABASES])
def store(request):
    return request.param


class Counting(MemoryBackend):
    """A memory store that counts reads and writes, to show what an append does not do."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.reads = self.writes = 0

    def read(self, key):
        self.reads += 1
        return super().read(key)

    def write(self, key, value, token):
        self.writes += 1
        super().write(key, value, token)


def post(pk, clock, score=None):
    return Entry(f"post:{pk}", pk if score is None else score, clock, {"text": f"post {pk}"})


def test_appended_changes_show_on_the_next_read_and_the_append_reads_nothing():
    backend = Counting()
    tl = Timeline(backend, max_items=10)
    tl.add("home", "old", 0)
    backend.reads = backend.writes = 0
    tl.append_changes({"home": [post(1, 10), post(2, 11)], "other": [post(3, 12)]})
    assert (backend.reads, backend.writes) == (0, 0)
    assert tl.get("home") == [{"text": "post 2"}, {"text": "post 1"}, "old"]
    assert tl.get("other") == [{"text": "post 3"}]


def test_identical_change_lists_are_validated_and_encoded_once(monkeypatch):
    encodes = []
    real_encode = codecs.encode
    monkeypatch.setattr(codecs, "encode", lambda entries, compress=None: encodes.append(entries) or real_encode(entries, compress))
    data = {"text": "hello"}
    tl = Timeline(MemoryBackend())
    tl.append_changes({f"follower:{n}": [Entry("post:1", 5, 10, data)] for n in range(100)})
    assert len(encodes) == 1
    assert tl.get("follower:99") == [data]


def test_equal_change_lists_with_different_data_are_encoded_apart():
    tl = Timeline(MemoryBackend())
    tl.append_changes({"a": [Entry("p", 5, 10, {"n": 1})], "b": [Entry("p", 5, 10, {"n": 2})], "c": [Entry("p", 5.0, 10)]})
    assert (tl.get("a"), tl.get("b"), tl.get("c", raw=True)[0].score) == ([{"n": 1}], [{"n": 2}], 5.0)


@pytest.mark.parametrize(
    "changes, error",
    [
        ([Entry("p", 5, 0)], InvalidTimelineInput),
        ([Entry("p", "five", 10)], InvalidTimelineInput),
        ([Entry(1.5, 5, 10)], InvalidTimelineInput),
        ([Entry("p", 5, 10, {"when": object()})], InvalidData),
    ],
)
def test_bad_changes_write_nothing_to_any_key(changes, error):
    backend = MemoryBackend()
    tl = Timeline(backend)
    with pytest.raises(error):
        tl.append_changes({"good": [post(1, 10)], "bad": changes})
    assert backend.keys() == []


def test_a_key_that_cannot_be_stored_writes_nothing():
    backend = MemoryBackend()
    with pytest.raises(InvalidTimelineInput):
        Timeline(backend).append_changes({"good": [post(1, 10)], "": [post(2, 11)]})
    assert backend.keys() == []


def test_changes_keep_their_clocks_whatever_order_they_are_appended_in(store):
    tl = Timeline(build(store), max_items=10)
    tl.append_changes({"home": [tombstone("post:1", 20)]})
    tl.append_changes({"home": [post(1, 10)]})  # an add retried after its delete
    tl.append_changes({"home": [post(2, 11), post(2, 11)]})  # twice in one batch
    assert [e.id for e in tl.get("home", raw=True)] == ["post:2"]
    tl.append_changes({"home": [post(1, 30)]})  # published again, later
    assert [e.id for e in tl.get("home", raw=True)] == ["post:2", "post:1"]


def test_a_read_merges_appended_values_and_writes_back_only_from_compact_on_read(store):
    backend = build(store)
    tl = Timeline(backend, max_items=10, compact_on_read=4)
    tl.add("home", "base", 0)
    tl.append_changes({"home": [post(1, 10)]})
    tl.append_changes({"home": [post(2, 11)]})
    assert tl.get("home") == [{"text": "post 2"}, {"text": "post 1"}, "base"]
    assert len(backend.read("home").values) == 3
    tl.append_changes({"home": [post(3, 12)]})
    assert tl.page("home", limit=2).items == [{"text": "post 3"}, {"text": "post 2"}]
    assert len(backend.read("home").values) == 1
    assert len(tl.get("home")) == 4


def test_an_append_that_leaves_compact_on_append_values_compacts_the_key(store):
    backend = build(store)
    tl = Timeline(backend, max_items=10, compact_on_read=100, compact_on_append=3)
    tl.append_changes({"home": [post(1, 10)]})
    tl.append_changes({"home": [post(2, 11)]})
    assert len(backend.read("home").values) == 2
    tl.append_changes({"home": [post(3, 12)]})
    assert len(backend.read("home").values) == 1
    assert [e.id for e in tl.get("home", raw=True)] == ["post:3", "post:2", "post:1"]


class FailingWrites(MemoryBackend):
    def write(self, key, value, token):
        raise TimelineBackendError(f"cannot write {key!r}", key=key)


def test_a_compaction_that_fails_is_logged_and_the_appended_changes_are_kept(caplog):
    backend = FailingWrites()
    tl = Timeline(backend, compact_on_append=2)
    tl.append_changes({"home": [post(1, 10)]})
    with caplog.at_level(logging.WARNING, logger="django_timak"):
        tl.append_changes({"home": [post(2, 11)]})
    assert "compaction of 'home' failed: cannot write 'home'" in caplog.text
    assert [e.id for e in tl.get("home", raw=True)] == ["post:2", "post:1"]


def test_an_unfollow_appends_its_detachments_and_a_follow_brings_the_items_back(store):
    backend = build(store)
    tl = Timeline(backend, max_items=10)
    for n in range(3):
        tl.add("alice:posts", f"p{n}", n)
    tl.add("bob:home", "own", 10)
    tl.copy_items("alice:posts", "bob:home")
    written = backend.read("bob:home").values
    tl.remove_items("alice:posts", "bob:home")
    assert tl.get("bob:home") == ["own"]
    assert written[0] in backend.read("bob:home").values  # appended beside, not rewritten
    tl.copy_items("alice:posts", "bob:home")
    assert tl.get("bob:home") == ["own", "p2", "p1", "p0"]
    tl.remove_items("alice:posts", "bob:home")
    assert tl.get("bob:home") == ["own"]


def test_an_unfollow_of_an_empty_timeline_appends_nothing():
    backend = MemoryBackend()
    Timeline(backend).remove_items("alice:posts", "bob:home")
    assert backend.keys() == []


@pytest.mark.parametrize("appenders", [1, 4])
def test_a_key_that_only_receives_appends_stays_within_compact_on_append_plus_its_appenders(store, appenders):
    """Each appender that leaves the key at the threshold compacts before appending again."""
    backend = build(store)
    threshold = 4
    tl = Timeline(backend, max_items=500, compact_on_append=threshold)
    counts = []
    real_append_many = backend.append_many

    def counted(values):
        found = real_append_many(values)
        counts.extend(found.values())
        return found

    backend.append_many = counted
    start = threading.Barrier(appenders)
    errors = []

    def appender(n):
        try:
            start.wait()
            for i in range(30):
                tl.append_changes({"crowded": [post(f"{n}-{i}", 1 + n * 100 + i, score=i)]})
        except Exception as e:  # reported below, with the appender's number
            errors.append((n, e))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=appender, args=(n,)) for n in range(appenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(counts) == 30 * appenders
    assert max(counts) <= threshold + appenders
    assert len(backend.read("crowded").values) <= threshold + appenders
    assert len(tl.get("crowded")) == 30 * appenders


# Settings


def test_the_thresholds_come_from_the_alias_settings():
    setting = {"default": {"BACKEND": MEMORY, "COMPACT_ON_READ": 3, "COMPACT_ON_APPEND": 5}}
    with override_settings(TIMAK_TIMELINES=setting):
        tl = timelines["default"]
        assert (tl.compact_on_read, tl.compact_on_append) == (3, 5)
    assert (Timeline(MemoryBackend()).compact_on_read, Timeline(MemoryBackend()).compact_on_append) == (8, 16)


@pytest.mark.parametrize("argument", ["compact_on_read", "compact_on_append"])
@pytest.mark.parametrize("value", [1, 0, True, 2.5, None])
def test_a_timeline_refuses_a_threshold_under_two(argument, value):
    with pytest.raises(InvalidTimelineInput, match=f"{argument} must be an int of at least 2, not {value!r}"):
        Timeline(MemoryBackend(), **{argument: value})


def test_a_refused_threshold_is_one_check_error_and_the_rest_of_the_alias_is_still_checked():
    setting = {"default": {"BACKEND": MEMORY, "COMPACT_ON_READ": 1, "COMPACT_ON_APPEND": "16", "MAX_ITEMS": 0}}
    with override_settings(TIMAK_TIMELINES=setting):
        messages = check_timelines()
    assert [(m.id, m.msg) for m in messages] == [
        ("django_timak.E005", "TIMAK_TIMELINES['default']['COMPACT_ON_READ'] must be an int of at least 2, not 1."),
        ("django_timak.E005", "TIMAK_TIMELINES['default']['COMPACT_ON_APPEND'] must be an int of at least 2, not '16'."),
        ("django_timak.E003", "TIMAK_TIMELINES['default'] is invalid: max_items must be an int of at least 1, not 0"),
    ]
    assert "under 25 on Riak" in messages[0].hint


def test_valid_thresholds_pass_the_checks():
    with override_settings(TIMAK_TIMELINES={"default": {"BACKEND": MEMORY, "COMPACT_ON_READ": 2, "COMPACT_ON_APPEND": 24}}):
        assert check_timelines() == []


class SiblingLimit(MemoryBackend):
    """A store that refuses a key a fourth value, as Riak refuses one past its sibling maximum."""

    def append(self, key, value):
        if len(self.read(key).values) >= 3:
            raise TooManySiblings(f"{key!r} holds too many values", key=key)
        return super().append(key, value)


def test_a_key_the_store_refuses_another_value_is_compacted_and_the_batch_appended_again():
    backend = SiblingLimit(allow_mult=True)
    tl = Timeline(backend, compact_on_append=100)
    for n in range(3):
        tl.append_changes({"full": [post(n, 10 + n)]})
    tl.append_changes({"full": [post(3, 20)], "other": [post(4, 21)]})
    assert len(tl.get("full")) == 4 and len(tl.get("other")) == 1
