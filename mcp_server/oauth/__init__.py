"""The OAuth 2.1 authorization server of `/mcp`, on the MCP SDK's auth support: discovery (RFC 9728, RFC 8414),
dynamic client registration (RFC 7591), PKCE, a consent page where a staff member approves scopes, rotated refresh
tokens and revocation (RFC 7009), over the grants of `domain.staff.oauth`."""
