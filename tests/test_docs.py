"""README's "Where things live" stays true: every path it names exists, every module of the
product's packages is named by some row, and the layer order it states is the one enforced.

A row's first cell names one or more paths in backticks. The first is from the project root; each
further one is from the root too when it starts with a top-level folder (``bot/polling.py``), and
otherwise from the first path's folder (``conversations/checkin.py``, ``enrolment.py`` names
``conversations/enrolment.py``). A path ending in ``/`` covers everything under it. A package's
``__init__.py`` is covered once any row names something in that package.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from tests.test_layers import ASIDE, ORDER

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PACKAGES = (*ORDER, *ASIDE)


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def _rows() -> list[list[str]]:
    """The paths of each row of the table, resolved from the project root."""
    rows = []
    for line in _section("Where things live").splitlines():
        if not line.startswith("| `"):
            continue
        named = re.findall(r"`([^`]+)`", line.split("|")[1])
        first = PurePosixPath(named[0])
        base = first if named[0].endswith("/") else first.parent
        paths = [named[0]]
        for name in named[1:]:
            top = name.split("/", 1)[0]
            from_root = "/" in name.rstrip("/") and (ROOT / top).is_dir()
            suffix = "/" if name.endswith("/") else ""
            paths.append(name if from_root else f"{base / name}{suffix}")
        rows.append(paths)
    assert rows, "README's 'Where things live' has no table"
    return rows


def _listed() -> list[str]:
    return [path for row in _rows() for path in row]


def _modules() -> list[str]:
    return sorted(
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def _covered(module: str, listed: list[str]) -> bool:
    for path in listed:
        if module == path or (path.endswith("/") and module.startswith(path)):
            return True
    if module.endswith("/__init__.py"):
        folder = module.removesuffix("__init__.py")
        return any(path.startswith(folder) for path in listed)
    return False


def test_every_path_in_where_things_live_exists() -> None:
    missing = [path for path in _listed() if not (ROOT / path).exists()]
    assert not missing, f"README's 'Where things live' names paths that do not exist: {missing}"
    folders = [path for path in _listed() if path.endswith("/") and not (ROOT / path).is_dir()]
    assert not folders, f"named as folders but not folders: {folders}"


def test_every_module_is_in_where_things_live() -> None:
    listed = _listed()
    uncovered = [module for module in _modules() if not _covered(module, listed)]
    assert not uncovered, f"modules no row of README's 'Where things live' covers: {uncovered}"


def test_the_table_reads_as_the_style_says() -> None:
    """The resolution rule above, on the table's own rows (so a misread never passes silently)."""
    listed = _listed()
    assert "conversations/enrolment.py" in listed
    assert "conversations/questionnaires/" in listed
    assert "bot/polling.py" in listed


def test_readme_states_the_layer_order_the_layer_test_enforces() -> None:
    section = _section("Where things live")
    order = " -> ".join(f"`{package}`" for package in ORDER)
    assert order in " ".join(section.split()), f"README should say {order}"
    for package in ASIDE:
        assert f"`{package}` imports none of them" in " ".join(section.split())
