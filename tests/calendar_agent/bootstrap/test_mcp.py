"""How `calendar-agent mcp` decides where it may listen and which Host/Origin values it accepts."""

import pytest

from calendar_agent.network import allowed_for, is_loopback_host, sdk_origins
from mcp_server.http import LOOPBACK_HOSTS
from calendar_agent.settings import load_settings
from calendar_agent.bootstrap.mcp import run_mcp


def test_listening_beyond_loopback_without_a_token_is_refused() -> None:
    with pytest.raises(SystemExit, match="refusing to listen on 0.0.0.0 without MCP_AUTH_TOKEN"):
        run_mcp(load_settings(mcp_auth_token=""), http=True, host="0.0.0.0", port=0)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"])
def test_loopback_addresses_are_recognised(host: str) -> None:
    assert is_loopback_host(host)


def test_a_named_address_is_accepted_as_host_besides_loopback_and_origins_only_as_configured() -> None:
    hosts, origins = allowed_for("10.0.0.7", configured_origins="https://clinic.example, http://10.0.0.8:81/")
    assert {"10.0.0.7:*", "127.0.0.1:*"} <= set(hosts)
    assert origins == ["https://clinic.example", "http://10.0.0.8:81"]
    assert {"https://10.0.0.7:*", "http://127.0.0.1:*", "https://clinic.example"} <= set(sdk_origins(hosts, origins))


def test_loopback_accepts_only_loopback_names_and_no_other_origin() -> None:
    assert allowed_for("127.0.0.1") == (list(LOOPBACK_HOSTS), [])
