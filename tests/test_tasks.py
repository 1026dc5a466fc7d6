"""Fan-out through the tasks framework: the request records row changes, the task computes the keys."""

import json

import pytest

from django_timak import fanout
from django_timak.signals import fanout_failed
from django_timak.tasks import apply_row_changes
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


def test_a_save_enqueues_its_row_change_and_the_task_computes_the_keys(settings, tasks_seen, django_assert_num_queries):
    settings.TIMAK_FANOUT = {"RUN": "task", "BATCH_SIZE": 2}
    settings.TASKS = {"default": {"BACKEND": settings.TASKS["default"]["BACKEND"].replace("immediate.ImmediateBackend", "dummy.DummyBackend")}}
    author, *readers = make_users("author", "r1", "r2", "r3")
    for reader in readers:
        follow(reader, author)
    with django_assert_num_queries(1):  # the INSERT: the followers are read by the task, not the request
        post = Post.objects.create(author=author, body="queued")
    [(changes,)] = tasks_seen["args"]
    assert [(c["timeline"], c["model"], c["pk"], c["action"]) for c in changes] == [
        ("default", "tests.post", str(post.pk), "save"),
        ("memory", "tests.post", str(post.pk), "save"),
    ]
    assert json.loads(json.dumps(changes)) == changes
    assert ids(f"user:{readers[0].pk}:home") == []
    assert apply_row_changes.call(changes) == {"changes": 2, "failed": 0}  # what a worker runs
    assert all(ids(f"user:{r.pk}:home") == [ref(post)] for r in readers)


def test_ten_batched_posts_are_one_task_of_twenty_changes(settings, tasks_seen):
    settings.TIMAK_FANOUT = {"RUN": "task"}
    author, *readers = make_users("author", *(f"r{i}" for i in range(30)))
    for reader in readers:
        follow(reader, author)
    with fanout.batched():
        posts = [Post.objects.create(author=author, body=f"post {i}") for i in range(10)]
    [(changes,)] = tasks_seen["args"]
    assert len(changes) == 10 * 2  # one per post and alias, whatever the audience
    assert all(len(ids(f"user:{r.pk}:home")) == 10 for r in readers)
    assert set(ids(f"user:{author.pk}:posts", "memory")) == {ref(p) for p in posts}


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


@pytest.mark.parametrize(
    "backend, expected",
    [
        ("immediate.ImmediateBackend", ["django_timak.W010"]),
        ("dummy.DummyBackend", []),
    ],
)
def test_a_check_warns_when_task_fan_out_runs_inside_the_request(settings, backend, expected):
    from django_timak.checks import check_fanout

    package = settings.TASKS["default"]["BACKEND"].split(".backends.")[0]
    settings.TASKS = {"default": {"BACKEND": f"{package}.backends.{backend}"}}
    settings.TIMAK_FANOUT = {"RUN": "task"}
    found = check_fanout()
    assert [m.id for m in found] == expected
    if found:
        assert found[0].msg == "TIMAK_FANOUT['RUN'] is 'task' but TASKS['default'] is the ImmediateBackend: fan-out runs inside the request."
    settings.TIMAK_FANOUT = {"RUN": "inline"}
    assert check_fanout() == []
