"""The layers import one way: a test fails on any upward import or any cycle.

Bottom up: ``core`` (errors, settings, clock, languages) -> ``storage`` (every SQL statement) ->
``conversations`` (pure decisions, and the thin handlers on them) -> ``bot`` (wiring, CLI,
polling, the periodic job, the playground). ``local_bot_api``, the Bot API stand-in, imports
none of them. Imports are read from the source (every ``import``, also inside functions), so an
import placed in a function cannot hide a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORDER = ("core", "storage", "conversations", "bot")
ASIDE = ("local_bot_api",)
MAY_IMPORT = {
    "core": {"core"},
    "storage": {"core", "storage"},
    "conversations": {"core", "storage", "conversations"},
    "bot": {"core", "storage", "conversations", "bot", "local_bot_api"},
    "local_bot_api": {"local_bot_api"},
}
# Pure decisions: no Telegram, no database, no I/O beyond reading their own files at start-up.
PURE = (
    "conversations.buttons",
    "conversations.checkpoints",
    "conversations.due_dates",
    "conversations.local_time",
    "conversations.prompts",
    "conversations.digest",
    "conversations.digest_text",
    "conversations.disclosure",
    "conversations.export",
    "conversations.ledger",
    "conversations.release_system",
    "conversations.bounds_solver",
    "conversations.departures",
    "conversations.comments",
    "conversations.participation",
    "conversations.publication",
    "conversations.questionnaire",
    "conversations.reach",
    "conversations.risk_rules",
    "conversations.risk_text",
    "conversations.safeguarding",
    "conversations.windows",
    "conversations.wording",
    "conversations.voiceclips",
    "conversations.yousaid",
)
IMPURE_LIBRARIES = ("telegram", "sqlalchemy", "aiosqlite", "aiohttp", "alembic")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in (*ORDER, *ASIDE):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, inside a function) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    functions = [
        node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    nested = {id(inner) for f in functions for inner in ast.walk(f) if inner is not f}
    nested |= {id(f) for f in functions}
    for node in ast.walk(tree):
        inside = id(node) in nested
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, inside
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            for alias in node.names:  # ``from pkg import module`` imports the module
                candidate = f"{module}.{alias.name}"
                yield (candidate if candidate in MODULES else module), node.lineno, inside


def _ours(module: str) -> str | None:
    """The module of ours that ``module`` names (or lies in), else None."""
    while module:
        if module in MODULES:
            return module
        module = module.rpartition(".")[0]
    return None


GRAPH = {
    name: {
        (target, line, inside)
        for imported, line, inside in _imports(name, path)
        if (target := _ours(imported)) is not None and target != name
    }
    for name, path in MODULES.items()
}


def test_the_packages_are_found() -> None:
    for package in (*ORDER, *ASIDE):
        assert package in MODULES, package
    assert len(MODULES) > 60


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_run_one_way(name: str) -> None:
    package = name.split(".")[0]
    upward = [
        f"{MODULES[name].relative_to(ROOT)}:{line} imports {target}"
        for target, line, _inside in GRAPH[name]
        if target.split(".")[0] not in MAY_IMPORT[package]
    ]
    assert not upward, "\n".join(upward)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_import_of_ours_hides_in_a_function(name: str) -> None:
    hidden = [
        f"{MODULES[name].relative_to(ROOT)}:{line} imports {target} inside a function"
        for target, line, inside in GRAPH[name]
        if inside
    ]
    assert not hidden, "\n".join(hidden)


def _cycle() -> list[str] | None:
    """One import cycle between modules, or None (depth-first search)."""
    edges = {name: sorted({target for target, _line, _inside in GRAPH[name]}) for name in GRAPH}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_no_module_imports_itself_round_a_circle() -> None:
    cycle = _cycle()
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_check_can_fail() -> None:
    GRAPH["core.clock"].add(("core.errors", 0, False))
    GRAPH["core.errors"].add(("core.clock", 0, False))
    try:
        assert _cycle() is not None
    finally:
        GRAPH["core.clock"].discard(("core.errors", 0, False))
        GRAPH["core.errors"].discard(("core.clock", 0, False))


@pytest.mark.parametrize("name", PURE)
def test_decisions_are_pure(name: str) -> None:
    libraries = [
        imported
        for imported, _line, _inside in _imports(name, MODULES[name])
        if imported.split(".")[0] in IMPURE_LIBRARIES
    ]
    ours = {target for target, _line, _inside in GRAPH[name]}
    assert not libraries, f"{name} imports {libraries}"
    assert ours <= {*PURE, "core.errors", "core.i18n", "core.prompt_status", "storage.records"}, (
        ours - set(PURE)
    )


def test_storage_knows_nothing_of_telegram() -> None:
    for name in (n for n in MODULES if n.startswith("storage")):
        imported = [m for m, _line, _inside in _imports(name, MODULES[name])]
        assert not [m for m in imported if m.split(".")[0] == "telegram"], name
