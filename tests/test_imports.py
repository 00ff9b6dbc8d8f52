"""jupyter_mlapp's import graph has no cycles, the imports inside functions included.

The graph is read from the source with ``ast``: a module imports another when any of its
``import`` statements names it, at the top or inside a function (a deferred import still ties the
two modules together: it only hides the cycle until the function runs). ``from package import
name`` is an import of the submodule when ``name`` is one, else of the package. Two kinds of
import are not edges: those under ``if TYPE_CHECKING:`` (never run), and Jupyter's entry-point
hooks in the package's ``__init__`` (``_jupyter_server_extension_points``): Jupyter calls them on
the loaded package to find the extension, which is what imports every room.
"""

from __future__ import annotations

import ast
from pathlib import Path

import jupyter_mlapp

PACKAGE = Path(jupyter_mlapp.__file__).parent
ROOT = "jupyter_mlapp"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_nodes(tree: ast.AST, in_package_init: bool):
    """Every import statement that runs, at any depth."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if in_package_init and isinstance(node, ast.FunctionDef) and node.name.startswith("_jupyter_"):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in import_nodes(ast.parse(path.read_text()), in_package_init=name == ROOT):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, *([base] if base else [])])
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            found.add(submodule if submodule in known else base)
    return {target for target in found if target in known and target != name}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, as the modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_graph_is_read_from_the_source():
    edges = graph()
    assert "jupyter_mlapp.rooms" in edges["jupyter_mlapp.extension"]
    assert "jupyter_mlapp.settings" in edges["jupyter_mlapp.jobs.job_manager"]
    # A deferred import counts: the extension imports the Hub integration inside a method.
    assert "jupyter_mlapp.integrations.jupyterhub" in edges["jupyter_mlapp.extension"]


def test_a_cycle_is_found():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])
