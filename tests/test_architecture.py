"""The domain imports nothing from the web, MCP, or the entry points; its rules do no I/O; its parts import only
downwards; no import cycle between packages, nor between the modules of any package."""

import ast
from pathlib import Path

import pytest

from tests.module_index import index

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("mcp", "starlette", "uvicorn", "chat_bridge", "mcp_server", "calendar_agent", "anthropic", "openai",
             "httpx", "httpx2", "os")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_domain_imports_no_adapter_and_reads_no_environment() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & set(FORBIDDEN))
        for path in (ROOT / "domain").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


PACKAGES = ("domain", "mcp_server", "chat_bridge", "prompts", "calendar_agent")
# Which top-level packages each may import: the entry points sit over the domain, and only the bootstrap
# (`calendar_agent`) knows them all.
MAY_IMPORT = {
    "domain": set(),
    "prompts": set(),
    "mcp_server": {"domain", "prompts"},
    "chat_bridge": {"domain", "prompts"},
    "calendar_agent": {"domain", "prompts", "mcp_server", "chat_bridge"},
}


def package_imports(package: str) -> set[str]:
    """The other top-level packages of the product that `package` imports, at run time or for typing."""
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        found |= imported_modules(path)
    return found & set(PACKAGES) - {package}


def test_packages_import_only_downwards_so_there_is_no_cycle() -> None:
    assert {package: package_imports(package) - MAY_IMPORT[package] for package in PACKAGES} == {
        package: set() for package in PACKAGES}


def module_imports(package: str) -> dict[str, set[str]]:
    """Each module of `package` and the modules of `package` it imports, at run time, for typing or lazily."""
    modules = {".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
               for path in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[module] = found & set(modules) - {module}
    return graph


def cycle_through(graph: dict[str, set[str]], start: str) -> list[str]:
    """A path of imports from `start` back to itself, or [] when there is none."""
    paths = [[start]]
    seen: set[str] = set()
    while paths:
        path = paths.pop()
        for module in sorted(graph[path[-1]]):
            if module == start:
                return [*path, start]
            if module not in seen:
                seen.add(module)
                paths.append([*path, module])
    return []


@pytest.mark.parametrize("package", PACKAGES)
def test_the_modules_of_each_package_import_one_another_without_a_cycle(package: str) -> None:
    graph = module_imports(package)
    assert {module: cycle for module in graph if (cycle := cycle_through(graph, module))} == {}


# The domain's parts, lowest first: the shared vocabulary, the pure rules, storage, the shapes callers are shown,
# the notices and the workers that send them, then the services (search, the calendar's single-item verbs, the
# system agent's batches) and their composition. A part imports only itself and the parts before it.
DOMAIN_LAYERS = ("config", "errors", "clock", "rules", "storage", "staff", "views", "events", "notices", "workers", "search",
                 "calendar", "system_agent", "waitlist", "services")


def domain_part(module: str) -> str:
    """`domain.rules.schedule` -> `rules`, `domain.views` -> `views`."""
    return module.split(".")[1]


def test_every_module_of_the_domain_is_in_a_declared_part() -> None:
    parts = {domain_part(module) for module in module_imports("domain") if module != "domain"}
    assert parts - set(DOMAIN_LAYERS) == set()


def test_the_domains_parts_import_only_downwards() -> None:
    rank = {part: i for i, part in enumerate(DOMAIN_LAYERS)}
    upward = {f"{module} -> {imported}" for module, imports in module_imports("domain").items() if module != "domain"
              for imported in imports if imported != "domain"
              and rank[domain_part(imported)] > rank[domain_part(module)]}
    assert upward == set()


# What a rule may import: pure standard modules, the calendar's date and number libraries, and the domain's
# vocabulary. No database, network, file, process or event loop.
PURE_MODULES = {"__future__", "collections", "dataclasses", "datetime", "enum", "functools", "itertools", "re",
                "typing", "unicodedata", "hijridate", "phonenumbers", "domain"}


def test_the_rules_do_no_io() -> None:
    rules = ROOT / "domain" / "rules"
    impure = {str(path.relative_to(ROOT)): sorted(imported_modules(path) - PURE_MODULES)
              for path in rules.rglob("*.py")}
    assert {path: names for path, names in impure.items() if names} == {}
    outside = {f"{module} -> {imported}" for module, imports in module_imports("domain").items()
               if module.startswith("domain.rules") for imported in imports
               if domain_part(imported) not in ("rules", "config", "errors")}
    assert outside == set()


def test_the_map_of_modules_lists_every_module_as_it_is() -> None:
    """`docs/modules.md` is `python -m tests.module_index`'s output: regenerate it when a module comes or goes."""
    assert (ROOT / "docs" / "modules.md").read_text() == index()
