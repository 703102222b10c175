"""Where a service listens: loopback-only or reachable from other machines."""

from __future__ import annotations

import ipaddress
import socket

from mcp_server.http import LOOPBACK_HOSTS, LOOPBACK_ORIGINS


def is_loopback_host(host: str) -> bool:
    """Whether a service bound to `host` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_for(host: str, configured: str = "") -> tuple[list[str], list[str]]:
    """Host and Origin values to accept: loopback, the configured names (MCP_ALLOWED_HOSTS), and the
    address (or this machine's names) listened on. `name:*` stands for the name with any port."""
    names = {n.strip() for n in configured.split(",") if n.strip()}
    if not is_loopback_host(host):
        names |= {socket.gethostname(), socket.getfqdn()} if host in ("0.0.0.0", "::", "") else {host}
    if not names:
        return list(LOOPBACK_HOSTS), list(LOOPBACK_ORIGINS)
    extra = [h for name in sorted(names) for h in (name, f"{name}:*")]
    origins = [f"{scheme}://{h}" for h in extra for scheme in ("http", "https")]
    return list(LOOPBACK_HOSTS) + extra, list(LOOPBACK_ORIGINS) + origins

