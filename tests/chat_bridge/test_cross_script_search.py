"""A name typed in one script finds the customer written in the other, as the operator's search box, the
system agent's tools at /mcp and a batch's targets meet it; the hit says which form matched. A name in the other
script scores 0.95, another spelling in the same script 0.85 (`domain.search.index`)."""

from __future__ import annotations

from mcp import Client

from domain.services import Services
from tests.fakes.graph_api import FakeGraphApi, graph_api, running_bridge  # noqa: F401

FAHAD, MOHAMMED, OTHER = "966501000001", "966501000002", "966501000003"


async def customers(services: Services) -> None:
    for wa_id, name in [(FAHAD, "فهد العتيبي"), (MOHAMMED, "Mohammed Saleh"), (OTHER, "Sara Khan")]:
        await services.customers.ensure(wa_id, name)
        await services.reservations.reserve(wa_id, "2026-12-06", "11:00")


async def test_the_search_box_finds_a_name_in_the_other_script(services: Services,
                                                               graph_api: FakeGraphApi) -> None:  # noqa: F811
    await customers(services)
    async with running_bridge(services, graph_api) as bridge:
        latin = (await bridge.http.get("/customers/search", params={"q": "Fahad"})).json()
        arabic = (await bridge.http.get("/customers/search", params={"q": "محمد"})).json()
    assert [(h["wa_id"], h["matched"], h["similarity"]) for h in latin] == [(FAHAD, "فهد", 0.95)]
    assert [(h["wa_id"], h["matched"]) for h in arabic] == [(MOHAMMED, "Mohammed")]


async def test_the_tools_find_and_target_a_name_in_the_other_script(services: Services,
                                                                     graph_api: FakeGraphApi) -> None:  # noqa: F811
    await customers(services)
    async with running_bridge(services, graph_api) as bridge, Client(f"{bridge.url}/mcp") as client:
        found = await client.call_tool("system_get_reservations", {"search_query": "Muhammad"})
        preview = await client.call_tool("system_batch_cancel", {"filters": {"search_query": "Fahd"}, "dry_run": True})
    text = found.content[0].text  # type: ignore[union-attr]
    assert f'"Mohammed Saleh"|{MOHAMMED}|0.85|"Mohammed"' in text
    assert "Sara Khan" not in text and "فهد" not in text
    assert preview.structured_content is not None
    assert preview.structured_content["matched_customers"] == [
        {"wa_id": FAHAD, "name": "فهد العتيبي", "similarity": 0.95, "matched": "فهد"}]
    assert preview.structured_content["summary"]["ok"] == 1
