"""The package reads one way: schema -> resolvers -> models, with no cycles and no shortcut around a layer.

Read from the source (every import, including those inside functions and under TYPE_CHECKING), so a
shortcut fails here before it can grow.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ticketdesk"
LAYERS = ("models", "resolvers", "schema", "subscriptions")


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        yield name, ast.parse(path.read_text(), str(path))


SOURCES = dict(_modules())


def _imports(tree: ast.Module) -> Iterator[str]:
    """Every module an import in `tree` loads, absolute, with the packages on its way."""
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module, "ticketdesk uses absolute imports only"
            names = [node.module]
            # `from ticketdesk.resolvers import tickets` loads the module ticketdesk.resolvers.tickets.
            names += [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in SOURCES]
        for name in names:
            parts = name.split(".")
            yield from (".".join(parts[:end]) for end in range(1, len(parts) + 1))


def _unit(module: str) -> str | None:
    """The node of the package graph a ticketdesk module belongs to: its layer, or the top-level module."""
    parts = module.split(".")
    if parts[0] != "ticketdesk" or len(parts) == 1:
        return None
    return parts[1]


GRAPH: dict[str, set[str]] = {}
IMPORTS: dict[str, set[str]] = {}
for _name, _tree in SOURCES.items():
    IMPORTS[_name] = set(_imports(_tree))
    source = _unit(_name)
    if source is not None:
        GRAPH.setdefault(source, set()).update(
            target for imported in IMPORTS[_name] if (target := _unit(imported)) not in (None, source)
        )


def test_layers_package_graph_has_no_cycle() -> None:
    seen: dict[str, str] = {}  # node -> "active" | "done"

    def visit(node: str, path: list[str]) -> None:
        seen[node] = "active"
        for target in sorted(GRAPH.get(node, ())):
            assert seen.get(target) != "active", "import cycle: " + " -> ".join([*path, node, target])
            if target not in seen:
                visit(target, [*path, node])
        seen[node] = "done"

    for node in sorted(GRAPH):
        if node not in seen:
            visit(node, [])


# What each layer must never import (besides what sits above it in the package graph).
FORBIDDEN = {
    "models": {"ticketdesk.resolvers", "ticketdesk.schema", "ticketdesk.subscriptions", "ticketdesk.policy",
               "ticketdesk.auth", "ticketdesk.context", "ticketdesk.app", "strawberry", "graphql"},
    "resolvers": {"ticketdesk.schema", "ticketdesk.subscriptions", "ticketdesk.context", "ticketdesk.app",
                  "strawberry", "graphql", "starlette"},
    "schema": {"tortoise", "ticketdesk.app", "ticketdesk.subscriptions.hub", "ticketdesk.subscriptions.broker"},
    "subscriptions": {"ticketdesk.schema", "ticketdesk.resolvers", "ticketdesk.context", "ticketdesk.app"},
}  # fmt: skip


@pytest.mark.parametrize("layer", LAYERS)
def test_layers_import_only_downwards(layer: str) -> None:
    wrong = sorted(
        f"{module} imports {imported}"
        for module, imported_set in IMPORTS.items()
        if _unit(module) == layer
        for imported in imported_set
        if any(imported == banned or imported.startswith(banned + ".") for banned in FORBIDDEN[layer])
    )
    assert wrong == []


# Libraries a layer must never load, not even through another ticketdesk module.
NEVER_LOADS = {
    "models": {"strawberry", "graphql", "starlette", "broadcaster"},
    "resolvers": {"strawberry", "starlette", "broadcaster"},
}


def _loads(module: str) -> set[str]:
    """Every module importing `module` loads, following ticketdesk's own imports."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        for imported in IMPORTS.get(current, ()):
            if imported not in seen:
                seen.add(imported)
                todo.append(imported)
    return seen


@pytest.mark.parametrize("layer", list(NEVER_LOADS))
def test_layers_lower_layers_never_load_the_web_stack(layer: str) -> None:
    wrong = sorted(
        f"{module} loads {library}"
        for module in SOURCES
        if _unit(module) == layer
        for library in NEVER_LOADS[layer] & {loaded.split(".")[0] for loaded in _loads(module)}
    )
    assert wrong == []


def _annotation_nodes(tree: ast.Module) -> set[int]:
    """ids of every node inside an annotation (arguments, returns, annotated assignments)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotations.append(node.returns)
            arguments = node.args
            for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
                annotations.append(argument.annotation)
        for annotation in annotations:
            if annotation is not None:
                inside.update(id(child) for child in ast.walk(annotation))
    return inside


def test_layers_schema_names_models_only_as_types() -> None:
    """The schema reads data only through resolvers: a model class appears in it only as a type."""
    misuse: list[str] = []
    for module, tree in SOURCES.items():
        if _unit(module) != "schema":
            continue
        bound: set[str] = set()  # names bound to ticketdesk.models (or a model class), enums aside
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                bound.update(
                    (alias.asname or alias.name).split(".")[0]
                    for alias in node.names
                    if alias.name.startswith("ticketdesk.models") and alias.name != "ticketdesk.models.enums"
                )
            elif isinstance(node, ast.ImportFrom) and node.module == "ticketdesk":
                bound.update(alias.asname or alias.name for alias in node.names if alias.name == "models")
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ticketdesk.models"):
                if node.module != "ticketdesk.models.enums":
                    bound.update(alias.asname or alias.name for alias in node.names if alias.name != "enums")
        annotations = _annotation_nodes(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in bound and id(node) not in annotations:
                misuse.append(f"{module}:{node.lineno} uses {node.id} outside a type annotation")
    assert misuse == []


# Undocumented members reached without an underscore to give them away.
UNDOCUMENTED = ("cross_web", "tortoise.backends.base.executor", "strawberry.subscriptions.protocols")


def test_layers_library_internals_are_reached_only_from_ticketdesk_internals() -> None:
    reaches: list[str] = []
    for module, tree in SOURCES.items():
        if module.startswith("ticketdesk.internals"):
            continue
        for node in ast.walk(tree):
            imported: list[tuple[str, list[str]]] = []
            if isinstance(node, ast.Import):
                imported = [(alias.name, []) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported = [(node.module, [alias.name for alias in node.names if alias.name.startswith("_")])]
            for library_module, private in imported:
                if library_module.startswith("ticketdesk"):
                    continue
                if any(part.startswith("_") for part in library_module.split(".")[1:]) or private:
                    reaches.append(f"{module} imports {library_module} {private}")
                if library_module.startswith(UNDOCUMENTED):
                    reaches.append(f"{module} imports {library_module}")
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                reaches.append(f"{module}:{node.lineno} reads another object's .{node.attr}")
            if isinstance(node, ast.Call):
                private_keywords = [kw.arg for kw in node.keywords if kw.arg and kw.arg.startswith("_")]
                if private_keywords:
                    reaches.append(f"{module}:{node.lineno} passes {private_keywords}")
    assert reaches == []
