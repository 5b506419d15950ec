"""The code's shape: a one-way pipeline. No import cycles anywhere in `codegen/`, and the
runtime that generated packages import (`codegen/runtime/`) imports nothing else of `codegen/`,
so a deployed server needs none of the generator. Imports under `if TYPE_CHECKING:` are left out
(they never run); imports inside functions count (they run when called)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "codegen"


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside.update(id(sub) for sub in ast.walk(node))
    return inside


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of `codegen` that module `name` imports (at run time)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in known else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in known and m != name}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_walk_sees_the_pipeline() -> None:
    edges = graph()
    # (`codegen.runtime` imports its submodules by name when a name is first used: its `_LAZY`
    # table names modules of the runtime only.)
    assert "codegen.runtime.version" in edges["codegen.runtime"]
    assert "codegen.runtime.application" in edges["codegen.runtime.handler"] or "codegen.runtime.handler" in edges["codegen.runtime.application"]
    assert "codegen.load" in edges["codegen.cli"] or any("codegen.load" in edges[m] for m in edges["codegen.cli"])
    assert "codegen.runtime.pointers" in edges["codegen.load"]


def test_the_walk_finds_a_cycle_and_a_crossing() -> None:
    # The test's own tools, on a made-up graph: they must be able to fail.
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_in_codegen() -> None:
    assert cycles(graph()) == []


def test_the_runtime_imports_nothing_else_of_codegen() -> None:
    crossing = {
        name: sorted(t for t in targets if not t.startswith("codegen.runtime"))
        for name, targets in graph().items()
        if name.startswith("codegen.runtime")
    }
    assert {name: targets for name, targets in crossing.items() if targets} == {}


def test_the_runtime_exports_every_name_it_lists_and_the_generator_starts_without_fastapi() -> None:
    import subprocess
    import sys

    import codegen.runtime

    assert all(getattr(codegen.runtime, name) is not None for name in codegen.runtime.__all__)
    # The generator reads documents with the runtime's pointer and dialect modules; starting it
    # must not import the web framework the runtime serves with (a second of every run).
    probe = "import sys, codegen.cli, codegen.load, codegen.ir; print(sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette')))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
