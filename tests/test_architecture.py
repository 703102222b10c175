"""The domain imports nothing from the web, MCP, or the entry points; no import cycle between packages, nor between
the bridge's modules."""

import ast
from pathlib import Path

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


def test_the_bridges_modules_import_one_another_without_a_cycle() -> None:
    graph = module_imports("chat_bridge")
    assert {module: cycle for module in graph if (cycle := cycle_through(graph, module))} == {}
