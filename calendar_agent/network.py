"""Where a service listens: loopback-only or reachable from other machines, and the Host and Origin values it
answers to."""

from __future__ import annotations

import ipaddress
import socket

from mcp_server.http import LOOPBACK_HOSTS


def is_loopback_host(host: str) -> bool:
    """Whether a service bound to `host` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_for(host: str, configured_hosts: str = "", configured_origins: str = "") -> tuple[list[str], list[str]]:
    """Host values to accept: loopback, the configured names (MCP_ALLOWED_HOSTS) and the address (or this
    machine's names) listened on, `name:*` standing for the name with any port; and the origins accepted beyond
    the one a request was sent to (ALLOWED_ORIGINS)."""
    names = {n.strip() for n in configured_hosts.split(",") if n.strip()}
    if not is_loopback_host(host):
        names |= {socket.gethostname(), socket.getfqdn()} if host in ("0.0.0.0", "::", "") else {host}
    extra = [h for name in sorted(names) for h in (name, f"{name}:*")]
    origins = [o.strip().rstrip("/") for o in configured_origins.split(",") if o.strip()]
    return list(LOOPBACK_HOSTS) + extra, origins


def sdk_origins(hosts: list[str], origins: list[str]) -> list[str]:
    """The Origin values the MCP SDK's own check accepts at `/mcp`: any web scheme on an accepted Host, and the
    configured origins. It is the coarser second check: `SameSiteGuard`, in front, admits only the origin a
    request was sent to (scheme, host and port) and the configured ones."""
    return [f"{scheme}://{host}" for host in hosts for scheme in ("http", "https")] + origins
