"""The operators' decisions on unsure notices over HTTP: listed with the batches, sent again once, or dismissed;
refused for any other notice, and from another web page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from domain.services import Services
from domain.system_agent.batch import BatchOptions
from tests.chat_bridge.test_notices import (FATIMA, OMAR, SUNDAY, counts, later, notices, services,  # noqa: F401
                                            settles_to, sunday_patients, tool)
from tests.fakes.graph_api import FakeGraphApi, RunningBridge, graph_api, running_bridge  # noqa: F401


@pytest.fixture
async def unsure(services: Services) -> dict[str, int]:  # noqa: F811
    """Fatima's and Omar's notices, whose sends began as their sender died: each customer's notice id."""
    await sunday_patients(services)
    await services.batch.cancel(requests=[{"wa_id": FATIMA}, {"wa_id": OMAR}], options=BatchOptions(notify=True))
    claimed, _ = await services.outbox.claim("dead", 10)
    for notice in claimed:
        assert await services.outbox.attempt(notice.id, "dead")
    later(services, services.outbox.config.lease_seconds + 1)
    return {n.wa_id: n.id for n in claimed}


@pytest.fixture
async def bridge(services: Services, graph_api: FakeGraphApi,  # noqa: F811
                 unsure: dict[str, int]) -> AsyncIterator[RunningBridge]:
    graph_api.approve_defaults()
    async with running_bridge(services, graph_api) as running:
        graph_api.webhook_url = f"{running.url}/webhook"
        await settles_to(services, {"unsure": 2})  # the restarted sender found them begun: sent again by nobody
        yield running


async def test_the_console_lists_the_unsure_notices_and_counts_them_per_batch(bridge: RunningBridge,
                                                                              unsure: dict[str, int]) -> None:
    listed = (await bridge.http.get("/notices/batches")).json()
    assert {(u["notice_id"], u["wa_id"], u["purpose"]) for u in listed["unsure"]} == {
        (unsure[FATIMA], FATIMA, "cancelled"), (unsure[OMAR], OMAR, "cancelled")}
    assert all(u["attempted_at"] and u["text"] for u in listed["unsure"])
    [batch] = listed["batches"]
    assert batch["by_status"]["unsure"] == 2 and batch["failures"] == []
    text, _ = await tool(bridge, "system_get_notices", {"batch_id": batch["batch_id"]})
    assert "unsure 2" in text and f"\"Omar Haddad\"|{OMAR}|cancelled|" in text


async def test_an_operator_sends_an_unsure_notice_again_and_it_goes_once(
    services: Services, bridge: RunningBridge, graph_api: FakeGraphApi, unsure: dict[str, int]  # noqa: F811
) -> None:
    answer = await bridge.http.post(f"/notices/{unsure[OMAR]}/resend", json={})
    assert answer.status_code == 200 and answer.json() == {"notice_id": unsure[OMAR], "status": "queued"}
    await settles_to(services, {"delivered": 1, "unsure": 1})
    assert [m.to for m in graph_api.sent] == [OMAR]
    again = await bridge.http.post(f"/notices/{unsure[OMAR]}/resend", json={})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "notice_not_unsure")
    assert "only a notice whose send is unsure" in again.json()["error"]["message"]


async def test_an_operator_dismisses_an_unsure_notice(services: Services, bridge: RunningBridge,
                                                      unsure: dict[str, int]) -> None:
    answer = await bridge.http.post(f"/notices/{unsure[FATIMA]}/dismiss", json={})
    assert answer.json() == {"notice_id": unsure[FATIMA], "status": "dismissed"}
    assert await counts(services) == {"dismissed": 1, "unsure": 1}
    assert [u["wa_id"] for u in (await bridge.http.get("/notices/batches")).json()["unsure"]] == [OMAR]
    missing = await bridge.http.post("/notices/4294967296/dismiss", json={})
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "notice_not_found")


async def test_another_web_page_cannot_resend_or_dismiss(services: Services, bridge: RunningBridge,
                                                         graph_api: FakeGraphApi,  # noqa: F811
                                                         unsure: dict[str, int]) -> None:
    path = f"/notices/{unsure[OMAR]}/resend"
    foreign = await bridge.http.post(path, json={}, headers={"Origin": "http://evil.example"})
    plain = await bridge.http.post(path, content=json.dumps({}), headers={"Content-Type": "text/plain"})
    form = await bridge.http.post(f"/notices/{unsure[OMAR]}/dismiss", data={"x": "1"})
    rebound = await bridge.http.post(path, json={}, headers={"Host": "evil.example"})
    assert [(r.status_code, r.json()["error"]["code"]) for r in (foreign, plain, form, rebound)] == [
        (403, "invalid_origin"), (415, "unsupported_media_type"), (415, "unsupported_media_type"),
        (421, "invalid_host")]
    assert await counts(services) == {"unsure": 2} and graph_api.sent == []
