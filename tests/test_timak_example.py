import pytest

from tests.timak_example import run_timak_example


def test_example_on_memory_backend():
    line = "from django_timak.backends.memory import MemoryBackend; conn = MemoryBackend()"
    assert run_timak_example(line) == (0, 10)


@pytest.mark.django_db(transaction=True)
def test_example_on_database_backend():
    line = "from django_timak.backends.db import DatabaseBackend; conn = DatabaseBackend()"
    assert run_timak_example(line) == (0, 10)


def test_a_wrong_result_fails_the_example():
    line = "from django_timak.backends.memory import MemoryBackend; conn = MemoryBackend(); Timeline = lambda **kw: __import__('django_timak').Timeline(max_items=2, **kw)"
    failed, attempted = run_timak_example(line)
    assert failed > 0
