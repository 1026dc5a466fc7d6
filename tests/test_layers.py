"""The module layout: no import circle, what importing a public name loads, old names."""

import ast

import pytest

from django_timak import conf, declarations, exceptions, fanout, handler, operations, outbox, row_operations
from django_timak.entries import Entry
from django_timak.timeline import Timeline
from tests.checkout import ROOT, run_python

PACKAGE = "django_timak"


def module_name(path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path, modules) -> set[str]:
    """Return the package's modules that a file imports, at any depth of its code."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            targets = [f"{source}.{alias.name}" for alias in node.names] + [source]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target not in (name, PACKAGE):
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in (ROOT / PACKAGE).rglob("*.py")}
    return {name: imported_modules(path, paths) for name, path in paths.items()}


def find_circle(graph) -> list[str]:
    """Return one import circle of ``graph`` as a path back to its start, or []."""
    done = set()

    def visit(name, path):
        if name in path:
            return path[path.index(name) :] + [name]
        if name in done:
            return []
        for imported in sorted(graph[name]):
            circle = visit(imported, path + [name])
            if circle:
                return circle
        done.add(name)
        return []

    for name in sorted(graph):
        circle = visit(name, [])
        if circle:
            return circle
    return []


def test_find_circle_finds_one():
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back_through_others():
    graph = import_graph()
    assert graph["django_timak.fanout"] and graph["django_timak.tasks"]
    assert find_circle(graph) == []


def test_tasks_apply_what_they_run_without_fanout():
    assert "django_timak.fanout" not in import_graph()["django_timak.tasks"]


LOADED = "import sys; print(' '.join(sorted(m for m in sys.modules if m.startswith(('django_timak', 'django.')))))"


@pytest.mark.subprocess
def test_declaring_a_timeline_field_loads_no_delivery_code():
    done = run_python(f"from django_timak import TimelineField, TimelineMixin; {LOADED}")
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert "django_timak.declarations" in loaded
    delivery = {"django_timak.fanout", "django_timak.outbox", "django_timak.operations", "django_timak.receivers", "django_timak.handler"}
    assert loaded & delivery == set()


@pytest.mark.subprocess
def test_the_core_runs_without_django_configured():
    code = (
        "from django_timak import Timeline; from django_timak.backends.memory import MemoryBackend; "
        "tl = Timeline(MemoryBackend(), max_items=2); tl.add('k', 1, 1); tl.add('k', 2, 2); tl.add('k', 3, 3); "
        f"print(tl.get('k')); {LOADED}"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    shown, modules = done.stdout.splitlines()
    assert shown == "[3, 2]"
    assert not {"django.conf", "django.db", "django.apps"} & set(modules.split())


def test_old_names_still_work():
    assert handler.TimelineConfigError is exceptions.TimelineConfigError
    assert issubclass(exceptions.TimelineConfigError, exceptions.TimelineError)
    assert (handler.SETTING, handler.DEFAULT_TIMELINES, handler.KNOWN_KEYS) == (conf.TIMELINES, conf.DEFAULT_TIMELINES, conf.ALIAS_KEYS)
    assert (fanout.Operation, fanout.ADD, fanout.DELETE) == (operations.Operation, operations.ADD, operations.DELETE)
    assert fanout.apply_operations is operations.apply_operations and fanout.report is operations.report_failures
    assert fanout.deliver is fanout.run_recorded
    assert (fanout.SETTING, fanout.DEFAULTS, fanout.RUN_MODES) == (conf.FANOUT, conf.FANOUT_DEFAULTS, conf.RUN_MODES)
    assert (outbox.SETTING, outbox.DEFAULTS) == (conf.OUTBOX, conf.OUTBOX_DEFAULTS)
    assert declarations.save_operations is row_operations.save_operations
    assert declarations.delete_operations is row_operations.delete_operations
    assert Timeline.update is Timeline.add_and_delete and Timeline.apply is Timeline.replay
    assert Entry("a", 1, 5).modified == 5 and Entry("a", 1, 5)._replace(modified=6) == Entry("a", 1, 6)
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        fanout.nothing
