"""The package keeps the shape ARCHITECTURE.md draws: parts, the arrows between them, small rooms."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"

# Which parts each part may import (ARCHITECTURE.md). The face (cli, __main__) may use all.
ALLOWED = {
    "model": set(),
    "tools": {"model"},
    "sources": {"model", "tools"},
    "form": {"model", "sources", "tools"},
    "reading": {"model", "form", "sources", "tools"},
    "rules": {"model"},
    "output": {"model", "tools"},
    "run": {"model", "tools", "sources", "form", "reading", "rules", "output"},
    # the review station: a second face (the web page), above every part, imported by none
    "station": {"model", "tools", "sources", "form", "reading", "rules", "output", "run"},
}
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def part_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE).parts
    return rel[0] if len(rel) > 1 else "face"


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, names, line) for every `import pipeline...` / `from pipeline... import`, nested ones too."""
    found: list[tuple[str, list[str], int]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names]
    return [f for f in found if f[0] == "pipeline" or f[0].startswith(("pipeline.", "samples", "tests"))]


def test_parts_import_only_what_they_may():
    """Ensures that no module imports a part its own part may not use, nor samples/ or tests/."""
    wrong = []
    for path in modules():
        part = part_of(path)
        for module, names, line in imports_of(path):
            if module.startswith(("samples", "tests")):
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} imports {module}")
                continue
            if part == "face":
                continue
            target = module.split(".")[1] if "." in module else "face"
            if module == "pipeline" and names == ["__version__"]:
                continue
            if target != part and target not in ALLOWED[part]:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} ({part}) imports {module} ({target})")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_another_modules_private_names():
    """Ensures that `from pipeline.x import _name` appears nowhere: a private name is that module's own."""
    wrong = [
        f"{path.relative_to(PACKAGE)}:{line} imports {name} from {module}"
        for path in modules()
        for module, names, line in imports_of(path)
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle_between_modules():
    """Ensures that the module graph (top-level and nested imports alike) has no cycle."""
    names = {module_name(p): p for p in modules()}
    graph: dict[str, set[str]] = {}
    for name, path in names.items():
        targets = set()
        for module, imported, _ in imports_of(path):
            for candidate in [module, *(f"{module}.{n}" for n in imported)]:
                if candidate in names and candidate != name:
                    targets.add(candidate)
        graph[name] = targets
    # a package __init__ importing its own modules is a re-export, not a cycle
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".") or name == "pipeline"}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, stack: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle.extend([*stack[stack.index(nxt):], nxt] if nxt in stack else [node, nxt])
                return True
            if nxt not in state and visit(nxt, [*stack, nxt]):
                return True
        state[node] = 2
        return False

    for node in sorted(graph):
        if node not in state and visit(node, [node]):
            break
    assert not cycle, " -> ".join(cycle)


def test_modules_and_functions_stay_small():
    """Ensures that no module passes ~600 lines and no function ~80: past that a room holds two jobs."""
    big = []
    for path in modules():
        text = path.read_text()
        lines = text.count("\n")
        if lines > MAX_MODULE_LINES:
            big.append(f"{path.relative_to(PACKAGE)}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    big.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}: {length} lines")
    assert not big, "\n".join(big)


def test_no_module_state_set_through_global():
    """Ensures that no function rebinds module state with `global`: callers pass settings or engines instead."""
    wrong = [
        f"{path.relative_to(PACKAGE)}:{node.lineno} global {', '.join(node.names)}"
        for path in modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Global)
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_every_part_says_what_it_owns(part):
    """Ensures that each part's __init__ docstring says what it owns or may use, and what it must never import."""
    doc = ast.get_docstring(ast.parse((PACKAGE / part / "__init__.py").read_text())) or ""
    assert "never import" in doc, f"pipeline/{part}/__init__.py"
