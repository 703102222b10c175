"""Where the OAuth server and `/mcp` are, as clients must name them: `PUBLIC_URL` behind a proxy, else the origin
a request was sent to (so a client of `http://localhost:<port>/mcp` and one of `http://127.0.0.1:<port>/mcp` each
find metadata naming the address they use). Only a Host the service answers to is ever written into metadata."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, ConfigDict, TypeAdapter
from starlette.datastructures import Headers
from starlette.types import Scope

from mcp.server.auth.routes import build_resource_metadata_url
from mcp.shared.auth_utils import check_resource_allowed

from domain.staff.oauth import is_loopback

# Issuers are compared as strings (RFC 8414): "http://127.0.0.1:8000", never with a slash added after the port.
URL = TypeAdapter(AnyHttpUrl, config=ConfigDict(url_preserve_empty_path=True))
WEB_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}


def url(text: str) -> AnyHttpUrl:
    return URL.validate_python(text)


def hostname(host: str) -> str:
    """The name or address of a Host header, without its port."""
    try:
        return urlsplit(f"//{host}").hostname or ""
    except ValueError:
        return ""


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """`host` (a Host header) is one of `allowed`, where `name:*` is the name with any port."""
    host = host.lower()
    return any(host == a.lower() or (a.endswith(":*") and host.startswith(a[:-1].lower())
                                     and host[len(a) - 1:].isdigit()) for a in allowed)


@dataclass(frozen=True)
class OAuthSite:
    """The service's public origin (`PUBLIC_URL`, no trailing slash) or, without one, the Host values it answers
    to; and the MCP endpoint's path."""

    public_url: str | None
    allowed_hosts: tuple[str, ...]
    mcp_path: str = "/mcp"

    def origin(self, scope: Scope) -> str | None:
        """The issuer for this request: PUBLIC_URL, or `scheme://host` of the request when the Host is allowed."""
        if self.public_url:
            return self.public_url
        host = Headers(scope=scope).get("host", "").lower()
        scheme = WEB_SCHEMES.get(str(scope.get("scheme", "http")), "http")
        if not host or not host_allowed(host, self.allowed_hosts):
            return None
        # OAuth's issuer is HTTPS beyond this machine (RFC 8414): plain HTTP elsewhere offers no OAuth
        return f"{scheme}://{host}" if scheme == "https" or is_loopback(hostname(host)) else None

    def resource(self, origin: str) -> str:
        """The resource (RFC 8707) of `/mcp` at `origin`."""
        return f"{origin}{self.mcp_path}"

    def metadata_url(self, origin: str) -> str:
        """Where the protected resource metadata (RFC 9728) of `/mcp` at `origin` is."""
        return str(build_resource_metadata_url(url(self.resource(origin))))


def serves_resource(origin: str, site: OAuthSite, resource: str | None) -> bool:
    """Whether a token or a request for `resource` may be used at `/mcp` of `origin`: the client named no
    resource, or named this one (or an origin above it)."""
    return resource is None or check_resource_allowed(site.resource(origin), resource)
