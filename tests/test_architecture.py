"""The domain imports nothing from the web, MCP, or the entry points."""

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
