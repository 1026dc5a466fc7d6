"""The keys of one fan-out fill up together and are compacted together: one read and one write call for them all."""

import pytest

from django_timak.backends.db import DatabaseBackend
from django_timak.backends.memory import MemoryBackend
from django_timak.entries import Entry
from django_timak.timeline import Timeline

pytestmark = pytest.mark.django_db(transaction=True)

KEYS = [f"user:{n}:home" for n in range(5)]


def post(n):
    return Entry(f"tests.post:{n}", 1000 + n, 10 + n, {"n": n})


class Counting:
    """Wrap a backend, counting its write and write_many calls."""

    def __init__(self, backend):
        self.backend = backend
        self.calls = []

    def __getattr__(self, name):
        found = getattr(self.backend, name)
        if name in ("write", "write_many"):
            def counted(*args):
                self.calls.append(name)
                return found(*args)
            return counted
        return found


@pytest.mark.parametrize("make", [DatabaseBackend, MemoryBackend], ids=["database", "memory"])
def test_a_fan_out_that_fills_every_key_compacts_them_all_in_one_write_call(make):
    backend = Counting(make())
    timeline = Timeline(backend, compact_on_append=3, compact_on_read=100)
    for n in range(2):
        timeline.append_changes({key: [post(n)] for key in KEYS})
    assert backend.calls == []
    timeline.append_changes({key: [post(2)] for key in KEYS})
    assert backend.calls == ["write_many"]
    for key in KEYS:
        assert len(backend.read(key).values) == 1
        assert [e.id for e in timeline.get(key, raw=True)] == ["tests.post:2", "tests.post:1", "tests.post:0"]


def test_the_database_writes_many_keys_in_one_transaction_and_leaves_out_a_key_written_since_its_read():
    backend = DatabaseBackend()
    timeline = Timeline(backend, compact_on_append=100, compact_on_read=100)
    for key in KEYS[:2]:
        timeline.add(key, "first", 1)  # a written value: updated by version
    timeline.append_changes({key: [post(1)] for key in KEYS[:3]})  # KEYS[2] holds only an appended value
    read = backend.read_many(KEYS[:3])
    backend.write(KEYS[0], read[KEYS[0]].values[0], read[KEYS[0]].token)  # another writer got there first
    merged = {key: (f"merged {key}".encode(), read[key].token) for key in KEYS[:3]}
    assert backend.write_many(merged) == {KEYS[0]}
    assert backend.read(KEYS[0]).values == [read[KEYS[0]].values[0]]
    for key in KEYS[1:3]:
        assert backend.read(key).values == [f"merged {key}".encode()]  # its appended value went with the write


def test_the_database_inserts_new_keys_together_and_leaves_out_one_created_since_its_read():
    backend = DatabaseBackend()
    timeline = Timeline(backend, compact_on_append=100, compact_on_read=100)
    timeline.append_changes({key: [post(1)] for key in KEYS})  # appended values only: no key has a written value
    read = backend.read_many(KEYS)
    backend.write(KEYS[3], b"created first", read[KEYS[3]].token)  # another compaction created it meanwhile
    merged = {key: (f"merged {key}".encode(), read[key].token) for key in KEYS}
    assert backend.write_many(merged) == {KEYS[3]}
    assert backend.read(KEYS[3]).values == [b"created first"]
    for key in KEYS[:3] + KEYS[4:]:
        assert backend.read(key).values == [f"merged {key}".encode()]  # created, its appended value gone
    assert backend.write_many({key: (b"again", read[key].token) for key in KEYS[:2]}) == set(KEYS[:2])
