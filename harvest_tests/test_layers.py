"""The layers point one way: read every module's imports (lazy ones too) and hold them to the README's rules.

    cli, commands, definitions            the entry points (commands that start Dagster or the simulator)
    defs                                  Dagster definitions, and nothing else imports Dagster
    buying, aoi_rules                     decisions that need to know every provider
    registry                              each provider source declared once
    harvesting, ordering                  the work, without Dagster: sources and days; desks, ledger, placing
    delivery, catalog                     files: downloads, GeoParquet
    providers                             HTTP clients, depending on nothing above them
    aois, timestamps, paths, textfiles    plain helpers

The simulator (`harvest.sandbox`) stands above all of it: it may import the product, the product never
imports it (only the commands that start it do).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "harvest"

# modules that start the simulator or Dagster, and may import them
SIMULATOR_STARTERS = {"harvest.commands.sandbox", "harvest.commands.dev"}
DAGSTER_RUNNERS = {
    "harvest.definitions",
    "harvest.commands.backfill",
    "harvest.commands.dev",
    "harvest.commands.dead_runs",
    "harvest.commands.slot_wait",
}
# everything above the work itself, from the registry up
ABOVE_THE_WORK = (
    "harvest.registry",
    "harvest.buying",
    "harvest.aoi_rules",
    "harvest.defs",
    "harvest.commands",
    "harvest.cli",
)
# what the providers' clients may use from the rest of harvest
PROVIDER_HELPERS = {"harvest.timestamps"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> Iterator[str]:
    """Every module `path` imports, at the top or inside functions, resolved to absolute names."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def is_face(path: Path) -> bool:
    """A package's `__init__.py` that only hands names on (imports, a docstring, `__all__`): not a dependency."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    handing_on = (ast.Import, ast.ImportFrom, ast.Expr, ast.Assign)
    return path.name == "__init__.py" and all(isinstance(node, handing_on) for node in body)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
FACES = {name for name, path in MODULES.items() if is_face(path)}
IMPORTS = {name: {target for target in imported(path) if target} for name, path in MODULES.items()}


def under(name: str, *packages: str) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def offenders(importers: Callable[[str], bool], rule: Callable[[str, str], bool]) -> list[str]:
    """`importer -> imported` pairs breaking a rule: (importer, target) -> True when forbidden."""
    return sorted(
        f"{importer} -> {target}"
        for importer, targets in IMPORTS.items()
        if importers(importer)
        for target in targets
        if rule(importer, target)
    )


def test_the_product_never_imports_the_simulator() -> None:
    assert (
        offenders(
            lambda importer: not under(importer, "harvest.sandbox") and importer not in SIMULATOR_STARTERS,
            lambda importer, target: under(target, "harvest.sandbox"),
        )
        == []
    )


def test_dagster_is_imported_only_by_definitions_and_the_commands_that_run_it() -> None:
    assert (
        offenders(
            lambda importer: not under(importer, "harvest.defs") and importer not in DAGSTER_RUNNERS,
            lambda importer, target: under(target, "dagster"),
        )
        == []
    )


def test_the_providers_depend_on_nothing_above_them() -> None:
    assert (
        offenders(
            lambda importer: under(importer, "harvest.providers"),
            lambda importer, target: (
                under(target, "harvest")
                and not under(target, "harvest.providers", *PROVIDER_HELPERS)
                and target != "harvest"
            ),
        )
        == []
    )


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("harvest.delivery", ("harvest.ordering", "harvest.harvesting", "harvest.registry", "harvest.defs")),
        ("harvest.catalog", ("harvest.ordering", "harvest.harvesting", "harvest.registry", "harvest.delivery")),
        ("harvest.harvesting", ("harvest.ordering", "harvest.registry", "harvest.defs", "harvest.commands")),
        ("harvest.ordering.desks", ("harvest.registry", "harvest.buying.policy", "harvest.defs")),
        ("harvest.registry", ("harvest.defs", "harvest.commands", "harvest.buying.policy", "harvest.aoi_rules")),
    ],
)
def test_each_layer_imports_only_below_it(package: str, forbidden: tuple[str, ...]) -> None:
    assert (
        offenders(lambda importer: under(importer, package), lambda importer, target: under(target, *forbidden)) == []
    )


def test_no_module_is_part_of_an_import_cycle() -> None:
    graph = {
        name: {
            target
            for target in targets
            if target in MODULES and target != name and MODULES[target].name != "__init__.py"
        }
        for name, targets in IMPORTS.items()
    }
    cycles = [component for component in strongly_connected(graph) if len(component) > 1]
    assert cycles == []


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively (the package is deep enough to matter)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def test_the_rules_read_real_imports() -> None:
    # guards against a reader that finds nothing (and so can never fail)
    assert "harvest.registry" in IMPORTS["harvest.defs.catalog.assets"]
    assert "harvest.providers.http" in IMPORTS["harvest.providers.oneatlas"]
    assert any(under(target, "dagster") for target in IMPORTS["harvest.defs.catalog.assets"])
    assert strongly_connected({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"], ["c"]]
