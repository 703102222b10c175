"""The Model Context Protocol server of the system agent and of the customer assistant.

- `system_server.build_system_server(services, batch, queries)`: the
  privileged batch calendar tools, the `calendar://` resources and the operators' workflow prompts.
- `customer_server.build_customer_server(services, wa_id)`: one customer's tools, bound to their number.
- `http.build_mcp_http_app(server, auth_token=...)`: streamable HTTP at `/mcp` (bearer token,
  Host/Origin checks); mounted in another app, enter its `lifespan()` from the host's lifespan.
"""
