"""MCP session factories for `AgentLoop`: the in-process server, or a remote one over streamable HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
from mcp import Client
from mcp.client.session import ElicitationFnT
from mcp.client.streamable_http import streamable_http_client
from mcp.server import MCPServer

from chat_bridge.agent.loop import SessionFactory

# A tool's answer may stream for a while (progress of a long batch): reads wait longer than the rest.
MCP_TIMEOUT = httpx2.Timeout(30.0, read=300.0)


# "legacy" (the initialize handshake) keeps a back-channel open, so a tool's `ctx.elicit` reaches the
# elicitation callback in the middle of its call, in memory and over HTTP alike.
def in_memory_sessions(server: MCPServer, elicitation: ElicitationFnT | None = None) -> SessionFactory:
    """Sessions with an MCP server running in this process."""

    def open_session() -> Client:
        return Client(server, elicitation_callback=elicitation, mode="legacy")

    return open_session


def remote_sessions(url: str, token: str = "", elicitation: ElicitationFnT | None = None) -> SessionFactory:
    """Sessions with a remote MCP server at `url` (its /mcp endpoint), with a bearer token when given."""
    headers = {"Authorization": f"Bearer {token}"} if token else None

    @asynccontextmanager
    async def open_session() -> AsyncIterator[Client]:
        async with httpx2.AsyncClient(headers=headers, timeout=MCP_TIMEOUT) as http:
            transport = streamable_http_client(url, http_client=http)
            async with Client(transport, elicitation_callback=elicitation, mode="legacy") as client:
                yield client

    return open_session
