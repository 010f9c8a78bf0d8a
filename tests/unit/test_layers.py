"""The layout holds: dependencies point one way, no import cycles, imports at the top, the simulator
shares no protocol code with the drivers. The rule is docs/architecture.md's; this test is its guard.

    .venv/bin/pytest tests/unit/test_layers.py -q
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "camfleet"

#: Each part of camfleet and the parts it may import (besides itself). A part that is not listed
#: here fails the test: a new package must be placed in the picture first.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "model": frozenset(),
    "paths": frozenset(),
    "aio": frozenset(),  # the event loop the long-lived services run on
    "inventory": frozenset({"model", "paths"}),
    "probes": frozenset({"model"}),
    "drivers": frozenset({"inventory", "model", "paths"}),
    "config": frozenset({"drivers", "inventory", "model", "paths"}),
    "reports": frozenset({"inventory", "model", "paths"}),
    "jobs": frozenset({"config", "reports", "drivers", "probes", "inventory", "model", "paths"}),
    "exporter": frozenset({"jobs", "config", "drivers", "probes", "inventory", "model", "paths", "aio"}),
    # The simulator may share the model and the inventory's baseline, never a protocol codec of the drivers.
    "sim": frozenset({"config", "inventory", "model", "paths", "aio"}),
    "cli": frozenset(
        {"exporter", "sim", "jobs", "config", "reports", "drivers", "probes", "inventory", "model", "paths"}
    ),
}


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def part_of(module: str) -> str:
    """``camfleet.jobs.firmware`` → ``jobs``; ``camfleet`` itself (its version) is ``model``'s level."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "model"


def imports(module: str, path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported camfleet module, line, at module level) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = set()
    for node in tree.body:
        if isinstance(node, ast.If):  # ``if TYPE_CHECKING:`` counts as the top
            top.update(id(n) for n in ast.walk(node))
        top.add(id(node))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        for name in names:
            if name == "camfleet" or name.startswith("camfleet."):
                yield name, node.lineno, id(node) in top


def known(name: str, all_modules: set[str]) -> str | None:
    """The camfleet module an import names (``from camfleet.x import y`` names ``camfleet.x`` or ``camfleet.x.y``)."""
    while name and name not in all_modules:
        name = name.rsplit(".", 1)[0] if "." in name else ""
    return name or None


def test_every_part_is_in_the_picture() -> None:
    parts = {part_of(m) for m, _ in modules()}
    assert parts <= set(MAY_IMPORT), f"place {sorted(parts - set(MAY_IMPORT))} in docs/architecture.md and here"


def test_dependencies_point_one_way() -> None:
    all_modules = {m for m, _ in modules()}
    wrong = []
    for module, path in modules():
        here = part_of(module)
        for name, line, _ in imports(module, path):
            target = known(name, all_modules)
            if target is None or target == "camfleet":
                continue
            there = part_of(target)
            if there != here and there not in MAY_IMPORT[here]:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {here} imports {target} ({there})")
    assert wrong == [], "imports against the layering rule:\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    all_modules = {m for m, _ in modules()}
    graph: dict[str, set[str]] = {m: set() for m in all_modules}
    for module, path in modules():
        for name, _, _ in imports(module, path):
            target = known(name, all_modules)
            if target is not None and target != module and not module.startswith(target + "."):
                graph[module].add(target)
    cycles = []
    state: dict[str, int] = {}  # 1 on the path, 2 done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == [], "import cycles:\n" + "\n".join(cycles)


def test_imports_sit_at_the_top_unless_a_comment_says_why() -> None:
    hidden = []
    for _module, path in modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    line, before = lines[inner.lineno - 1], lines[inner.lineno - 2]
                    if "#" not in line and not before.strip().startswith("#"):
                        hidden.append(f"{path.relative_to(ROOT)}:{inner.lineno}: {line.strip()}")
    assert hidden == [], "imports inside functions without a comment saying why:\n" + "\n".join(hidden)


@pytest.mark.parametrize(
    ("module", "part"),
    [("camfleet.jobs.firmware", "jobs"), ("camfleet", "model"), ("camfleet.cli", "cli"), ("camfleet.sim.town", "sim")],
)
def test_parts_are_named_by_their_package(module: str, part: str) -> None:
    assert part_of(module) == part


def test_the_guard_sees_an_upward_import(tmp_path: Path) -> None:
    """The rule check itself: an inventory module importing a driver is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from camfleet.drivers import driver_class\n\ndef f():\n    import camfleet.jobs.base\n")
    found = list(imports("camfleet.inventory.bad", bad))
    assert [(n, top) for n, _, top in found] == [
        ("camfleet.drivers", True),
        ("camfleet.drivers.driver_class", True),
        ("camfleet.jobs.base", False),
    ]
    assert "drivers" not in MAY_IMPORT["inventory"] and "jobs" not in MAY_IMPORT["inventory"]
