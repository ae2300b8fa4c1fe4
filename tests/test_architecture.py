"""The house rules the layout promises (DESIGN 2, STYLE 1 and 14), read from the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = (
    "options_scalper",
    "btcompat",
    "feeds",
    "brokers",
    "strategies",
    "analyzers",
    "journal",
    "app",
    "dashboard",
)


def modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function (TYPE_CHECKING blocks aside)."""
    tree = ast.parse(path.read_text())
    skipped = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


MODULES = modules()
GRAPH = {m: {t for t in imports_of(p) if t in MODULES and t != m} for m, p in MODULES.items()}


def test_there_are_no_import_cycles() -> None:
    seen: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []

    def visit(m: str, path: list[str]) -> None:
        seen[m] = 1
        for t in sorted(GRAPH[m]):
            if seen.get(t) == 1:
                cycles.append([*path[path.index(t) :], t])
            elif t not in seen:
                visit(t, [*path, t])
        seen[m] = 2

    for m in sorted(GRAPH):
        if m not in seen:
            visit(m, [m])
    assert not cycles, cycles


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("options_scalper", ("backtrader", "alpaca", "ib_async", "ib_insync", *PACKAGES[1:])),
        ("strategies", ("feeds", "brokers", "app", "alpaca", "ib_async", "ib_insync")),
        ("journal", ("backtrader", "strategies", "feeds", "brokers", "app")),
        ("feeds", ("strategies", "brokers", "analyzers", "app")),
        ("btcompat", PACKAGES[2:]),
        ("dashboard", ("brokers", "app", "alpaca", "ib_async", "ib_insync")),
    ],
)
def test_dependencies_point_one_way(package: str, forbidden: tuple[str, ...]) -> None:
    bad = {
        f"{m} imports {t}"
        for m, p in MODULES.items()
        if m.split(".")[0] == package
        for t in imports_of(p)
        if t.split(".")[0] in forbidden
    }
    assert not bad, sorted(bad)
