"""The bootstrap of `calendar-agent mcp`: the system agent's MCP server over stdio (Claude Desktop) or
streamable HTTP, built and wired here and nowhere else."""

from __future__ import annotations

import sys

import anyio
import uvicorn
from mcp.server import MCPServer

from calendar_agent.bootstrap import services_from, warm_search
from calendar_agent.http_server import server_config
from calendar_agent.network import allowed_for, is_loopback_host, sdk_origins
from calendar_agent.settings import Settings
from chat_bridge.security import SameSiteGuard
from domain.services import Services
from mcp_server.http import LocalCallers, build_mcp_http_app
from mcp_server.system_server import build_system_server
from mcp_server.toolsets import listed_toolsets


def run_mcp(settings: Settings, *, http: bool = False, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve until stopped. Listening beyond loopback without MCP_AUTH_TOKEN is refused."""
    if http and not is_loopback_host(host) and not settings.mcp_auth_token:
        raise SystemExit(f"calendar-agent mcp: refusing to listen on {host} without MCP_AUTH_TOKEN; "
                         "set it, or listen on 127.0.0.1.")
    anyio.run(_serve, settings, http, host, port)


def system_server_for(services: Services, settings: Settings) -> MCPServer:
    """The system agent's server over `services`, with its query and batch services."""
    return build_system_server(services, services.batch, services.queries, listed_toolsets(settings.mcp_toolsets))


async def _serve(settings: Settings, http: bool, host: str, port: int) -> None:
    services = services_from(settings)
    try:
        server = system_server_for(services, settings)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(warm_search, services.search)  # built while the client connects
            if http:
                await _serve_http(server, settings, host, port)
            else:
                await server.run_stdio_async()
            tasks.cancel_scope.cancel()
    finally:
        await services.db.dispose()


async def _serve_http(server: MCPServer, settings: Settings, host: str, port: int) -> None:
    hosts, origins = allowed_for(host, settings.mcp_allowed_hosts, settings.allowed_origins)
    app = build_mcp_http_app(server, auth_token=settings.mcp_auth_token, allowed_hosts=hosts,
                             allowed_origins=sdk_origins(hosts, origins),
                             local_caller=LocalCallers(settings.proxy_list()))
    # The same Host and Origin rule as `calendar-agent serve` applies to its /mcp: a page on another port of
    # this machine is another site.
    guarded = SameSiteGuard(app, allowed_hosts=hosts, allowed_origins=origins)
    print(f"MCP streamable HTTP on http://{host}:{port}/mcp", file=sys.stderr)
    await uvicorn.Server(server_config(guarded, settings, host, port, log_level="info")).serve()
