"""Fan-out through the tasks framework: one JSON task per batch, failures reported."""

import json

import pytest

from django_timak.signals import fanout_failed
from tests.models import Post
from tests.social import follow, ids, make_users, ref

try:
    from django.tasks.signals import task_enqueued, task_finished
except ImportError:
    from django_tasks.signals import task_enqueued, task_finished

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clear_memory")]


@pytest.fixture
def tasks_seen():
    """Record each enqueued task's arguments and each finished task's status."""
    seen = {"args": [], "status": []}

    def enqueued(sender, task_result, **kwargs):
        seen["args"].append(task_result.args)

    def finished(sender, task_result, **kwargs):
        seen["status"].append(task_result.status.name)

    task_enqueued.connect(enqueued, dispatch_uid="test-enqueued")
    task_finished.connect(finished, dispatch_uid="test-finished")
    yield seen
    task_enqueued.disconnect(dispatch_uid="test-enqueued")
    task_finished.disconnect(dispatch_uid="test-finished")


def test_each_batch_is_one_task_with_a_json_payload(settings, tasks_seen):
    settings.TIMAK_FANOUT = {"RUN": "task", "BATCH_SIZE": 2}
    author, *readers = make_users("author", "r1", "r2", "r3")
    for reader in readers:
        follow(reader, author)
    post = Post.objects.create(author=author, body="queued")
    # 5 writes: the profile on two stores and three homes -> batches of 2, 2, 1.
    assert [len({(op["timeline"], op["key"]) for op in ops}) for _, ops in tasks_seen["args"]] == [2, 2, 1]
    assert all(label == "tests.post" for label, _ in tasks_seen["args"])
    assert json.loads(json.dumps(tasks_seen["args"])) == [list(args) for args in tasks_seen["args"]]
    assert tasks_seen["status"] == ["SUCCESSFUL"] * 3
    assert all(ids(f"user:{r.pk}:home") == [ref(post)] for r in readers)


def test_inline_fan_out_enqueues_nothing(settings, tasks_seen):
    settings.TIMAK_FANOUT = {"RUN": "inline"}
    (author,) = make_users("author")
    post = Post.objects.create(author=author, body="inline")
    assert tasks_seen["args"] == []
    assert ids(f"user:{author.pk}:posts") == [ref(post)]


def test_a_queue_the_task_backend_refuses_fails_no_save(settings, tasks_seen):
    settings.TIMAK_FANOUT = {"RUN": "task", "TASK_QUEUE": "no-such-queue"}
    (author,) = make_users("author")
    received = []
    fanout_failed.connect(lambda **kw: received.append(kw), sender=Post, weak=False, dispatch_uid="test-refused")
    try:
        post = Post.objects.create(author=author, body="refused")
    finally:
        fanout_failed.disconnect(sender=Post, dispatch_uid="test-refused")
    assert Post.objects.filter(pk=post.pk).exists()
    assert tasks_seen["args"] == []
    [signal] = received
    assert "no-such-queue" in str(signal["exception"])
    assert sorted((op.timeline, op.key) for op in signal["operations"]) == [
        ("default", f"user:{author.pk}:posts"),
        ("memory", f"user:{author.pk}:posts"),
    ]
    assert ids(f"user:{author.pk}:posts") == []


def test_a_task_queue_named_in_the_settings_is_used(settings, tasks_seen):
    backend = settings.TASKS["default"]["BACKEND"]
    settings.TASKS = {"default": {"BACKEND": backend}, "fanout": {"BACKEND": backend, "QUEUES": ["timelines"]}}
    settings.TIMAK_FANOUT = {"RUN": "task", "TASK_BACKEND": "fanout", "TASK_QUEUE": "timelines"}
    (author,) = make_users("author")
    post = Post.objects.create(author=author, body="routed")
    assert tasks_seen["status"] == ["SUCCESSFUL"]
    assert ids(f"user:{author.pk}:posts") == [ref(post)]
