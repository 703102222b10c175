"""Where a service listens: loopback-only or reachable from other machines."""

from __future__ import annotations

import ipaddress
import socket

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
LOOPBACK_HOSTS = tuple(h for host in LOOPBACK for h in (host, f"{host}:*"))
LOOPBACK_ORIGINS = tuple(f"http://{h}" for h in LOOPBACK_HOSTS)


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


def matches(value: str, allowed: list[str] | tuple[str, ...]) -> bool:
    """`value` (a Host header or an Origin) is one of `allowed`, where `x:*` is x with any port."""
    value = value.lower()
    for pattern in allowed:
        pattern = pattern.lower()
        if value == pattern or (pattern.endswith(":*") and value.startswith(pattern[:-1])
                                and value[len(pattern) - 1:].isdigit()):
            return True
    return False
