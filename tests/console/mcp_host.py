"""An MCP Apps host for the browser tests: the ext-apps `AppBridge` in a page served on loopback, each view in a
sandboxed iframe, and the Python SDK client (Apps negotiated) on the service's /mcp calling the tools, both the
model's and those the apps ask for."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client import advertise
from mcp.client.streamable_http import streamable_http_client
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp_types import TextResourceContents, Tool
from playwright.async_api import (Browser, BrowserContext, ConsoleMessage, FrameLocator, Locator, Page, Request,
                                  expect)
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from chat_bridge.agent.loop import listed_tools
from tests.console.conftest import chromium
from tests.fakes.loopback import serve_on_loopback
from tests.mcp_server.npm_tools import TOOLS as NPM, node_home

HOST_SOURCES = Path(__file__).parent / "mcp_host"
ESBUILD = NPM / "node_modules" / "esbuild" / "bin" / "esbuild"
APPS = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
HOST_WIDTH, HOST_HEIGHT = 1100, 900
# Chromium puts a sandboxed frame in a process of its own, and Playwright attaches to it only once it has started:
# a request the view made while loading would go unseen. In the page's process, every request of the frame is seen.
FRAMES_IN_PAGE_PROCESS = "--disable-features=IsolateSandboxedIframes"


def build_host_page(into: Path) -> Path:
    """host.html and host.js bundled with esbuild (from tests/npm) into `into`: the page the tests open."""
    if not ESBUILD.is_file():
        pytest.fail(f"esbuild is not installed in {NPM}: run `bash scripts/bootstrap.sh --tests`")
    node = node_home() / "bin" / "node"
    command = [str(node), str(ESBUILD), str(HOST_SOURCES / "host.js"), "--bundle", "--format=esm",
               "--log-level=warning", f"--outfile={into / 'host.js'}"]
    subprocess.run(command, check=True, env={**os.environ, "NODE_PATH": str(NPM / "node_modules")})
    shutil.copy(HOST_SOURCES / "host.html", into / "index.html")
    return into


@asynccontextmanager
async def host_browser() -> AsyncIterator[Browser]:
    """Debian's Chromium as the console tests launch it, with the views' frames in the page's process."""
    async with chromium(FRAMES_IN_PAGE_PROCESS) as browser:
        yield browser


@asynccontextmanager
async def apps_client(url: str, token: str) -> AsyncIterator[Client]:
    """The SDK client on the service's /mcp with the bearer token, negotiating MCP Apps as a host does."""
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
        async with Client(streamable_http_client(f"{url}/mcp", http_client=http), extensions=[APPS]) as client:
            yield client


def as_json(model: BaseModel) -> Any:
    """A result or a tool as it crosses the wire (camelCase, `_meta`), for the page."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


@dataclass
class McpHost:
    """The host page and the client behind it; every request a view's frame made, every error a page threw."""

    page: Page
    client: Client
    tools: list[Tool]
    frame_requests: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)

    def listed(self, name: str) -> Tool:
        tool = next((tool for tool in self.tools if tool.name == name), None)
        assert tool is not None, f"the tool listing of an Apps client does not show {name}"
        return tool

    async def view_document(self, tool: Tool) -> str:
        """The HTML of the tool's `_meta.ui.resourceUri`, read from the server as a host reads it."""
        uri = (tool.meta or {})["ui"]["resourceUri"]
        contents = (await self.client.read_resource(uri)).contents
        assert isinstance(contents[0], TextResourceContents) and contents[0].mime_type == APP_MIME_TYPE
        return contents[0].text

    async def open_view(self, tool_name: str, arguments: dict[str, Any], *, locale: str = "en-GB") -> FrameLocator:
        """The model's call of `tool_name`, then its view shown with the call's input and result."""
        result = await self.client.call_tool(tool_name, arguments)
        tool = self.listed(tool_name)
        view = {"html": await self.view_document(tool), "tool": as_json(tool), "tools": as_json_list(self.tools),
                "arguments": arguments, "result": as_json(result), "locale": locale}
        index = await self.page.evaluate("(view) => window.mcpHost.open(view)", view)
        return self.page.frame_locator(f'iframe[data-view="{index}"]')

    def model_context(self) -> Locator:
        """What the apps told the model (`ui/update-model-context`), one item each, newest last."""
        return self.page.locator("#model-context > li")

    async def refused_calls(self) -> list[str]:
        """The tools an app asked for that the host refused: the listing does not offer them to apps."""
        refused: list[str] = await self.page.evaluate("window.mcpHost.refused")
        return refused

    async def call_for_app(self, name: str, arguments: dict[str, Any]) -> Any:
        return as_json(await self.client.call_tool(name, arguments))


def as_json_list(models: list[Tool]) -> list[Any]:
    return [as_json(model) for model in models]


@asynccontextmanager
async def mcp_host(browser: Browser, host_page: Path, service_url: str, token: str) -> AsyncIterator[McpHost]:
    """The host page open in a fresh browser context, its client connected to the service."""
    with bare_failures():
        async with apps_client(service_url, token) as client, serve_on_loopback(host_app(host_page)) as url:
            context = await browser.new_context(viewport={"width": HOST_WIDTH, "height": HOST_HEIGHT},
                                                locale="en-GB")
            try:
                yield await open_host(context, client, url)
            finally:
                await context.close()


@contextmanager
def bare_failures() -> Iterator[None]:
    """The client's task group wraps a test's failed assertion in an exception group: report the failure itself."""
    try:
        yield
    except BaseExceptionGroup as group:
        while isinstance(group, BaseExceptionGroup) and len(group.exceptions) == 1:
            group = group.exceptions[0]
        raise group from None


def host_app(host_page: Path) -> Starlette:
    return Starlette(routes=[Mount("/", app=StaticFiles(directory=host_page, html=True))])


async def open_host(context: BrowserContext, client: Client, url: str) -> McpHost:
    """The host page, its tool calls handed to `client`, and what its frames request or throw recorded."""
    page = await context.new_page()
    host = McpHost(page, client, await listed_tools(client))
    page.on("request", lambda request: record_frame_request(host, request))
    page.on("pageerror", lambda error: host.script_errors.append(str(error)))
    page.on("console", lambda message: record_console_error(host, message))
    await page.expose_function("callServerTool", host.call_for_app)
    await page.goto(url)
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return host


def record_console_error(host: McpHost, message: ConsoleMessage) -> None:
    """A view's refused request (its CSP) or failed call shows as a console error."""
    if message.type == "error":
        host.script_errors.append(message.text)


def record_frame_request(host: McpHost, request: Request) -> None:
    if request.frame != host.page.main_frame:
        host.frame_requests.append(request.url)
