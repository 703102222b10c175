"""Staff sign-in and roles through the app as `calendar-agent serve` builds it, on SQLite and PostgreSQL: the session
cookie, one refusal for every wrong sign-in, the throttle, sign-in CSRF and session fixation refused, sign-out; each
role's reach on the console's endpoints and the WebSocket, with refusals and changes in the audit log."""

from __future__ import annotations

import asyncio

import httpx2
import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from domain.services import Services
from domain.staff.audit import AuditLine
from domain.storage.models import Reservation, StaffSession, Vacation
from tests.fakes.graph_api import (FakeGraphApi, RunningBridge, bridge, bridge_settings, graph_api,  # noqa: F401
                                   running_bridge)

PASSWORD = "correct horse battery"
CUSTOMER, DAY = "966501234567", "2026-12-06"
COOKIE = "calendar_session"
WINTER = {"start_date": "2026-12-20", "end_date": "2026-12-31", "title": "Winter break"}


@pytest.fixture
async def staffed(services: Services, bridge: RunningBridge) -> RunningBridge:  # noqa: F811
    """The bridge of a clinic with an admin, an operator and a viewer."""
    for name, role in (("amal", "admin"), ("omar", "operator"), ("vera", "viewer")):
        await services.staff.add(name, role, PASSWORD, name.title())
    return bridge


async def sign_in(bridge: RunningBridge, username: str, password: str = PASSWORD, **headers: str) -> httpx2.Response:
    return await bridge.http.post("/session", json={"username": username, "password": password}, headers=headers)


async def session_of(bridge: RunningBridge, username: str) -> dict[str, str]:
    """The cookie header of a fresh session of `username` (the client itself keeps no cookie)."""
    response = await sign_in(bridge, username)
    assert response.status_code == 200, response.text
    bridge.http.cookies.clear()
    return {"Cookie": f"{COOKIE}={response.cookies[COOKIE]}"}


async def audit_lines(services: Services, count: int) -> list[AuditLine]:
    """The newest `count` lines of HTTP requests, once there are that many (a change's is written after its
    answer)."""
    async with asyncio.timeout(10):
        while len(lines := [line for line in await services.audit.recent() if line.action.startswith("http ")]) < count:
            await asyncio.sleep(0.02)
    return lines[:count]


async def booked(services: Services) -> int:
    await services.customers.ensure(CUSTOMER, "Sara")
    result = await services.reservations.reserve(CUSTOMER, DAY, "11:00")
    assert result.reservation is not None
    return result.reservation.id


async def status_of(services: Services, reservation_id: int) -> str:
    async with services.db.reading() as session:
        return str(await session.scalar(select(Reservation.status).where(Reservation.id == reservation_id)))


async def test_signing_in_sets_an_httponly_strict_cookie_that_opens_the_console(staffed: RunningBridge) -> None:
    response = await sign_in(staffed, "Omar")
    cookie = response.headers["set-cookie"].lower()
    who = await staffed.http.get("/session")
    names = await staffed.http.get("/customers/names")
    assert response.json() == {"user": {"username": "omar", "display_name": "Omar", "role": "operator"},
                               "mode": "staff"}
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie and "secure" not in cookie
    assert (who.json()["user"]["username"], names.status_code) == ("omar", 200)


@pytest.mark.parametrize("headers", [{"Host": "clinic.example"}, {"X-Forwarded-Proto": "https"}])
async def test_beyond_loopback_or_over_https_the_cookie_is_secure(services: Services, graph_api: FakeGraphApi,  # noqa: F811
                                                                  headers: dict[str, str]) -> None:
    await services.staff.add("omar", "operator", PASSWORD)
    settings = bridge_settings(graph_api, mcp_allowed_hosts="clinic.example")
    async with running_bridge(services, graph_api, settings=settings) as running:
        response = await sign_in(running, "omar", **headers)
    assert response.status_code == 200
    assert "; secure" in response.headers["set-cookie"].lower()


@pytest.mark.parametrize(("username", "password"), [("omar", "wrong password!"), ("nobody", PASSWORD),
                                                    ("vera", PASSWORD)])
async def test_every_wrong_sign_in_gets_one_answer_and_no_cookie(services: Services, staffed: RunningBridge,
                                                                 username: str, password: str) -> None:
    await services.staff.disable("vera")
    response = await sign_in(staffed, username, password)
    assert response.status_code == 422
    assert response.json()["error"] == {"code": "sign_in_refused", "message": "The username or password is wrong, "
                                        "or the account is disabled."}
    assert "set-cookie" not in response.headers
    assert (await staffed.http.get("/customers/names")).status_code == 401


async def test_after_five_refusals_sign_in_is_throttled_with_retry_after(staffed: RunningBridge) -> None:
    refused = [(await sign_in(staffed, "omar", "a wrong guess")).status_code for _ in range(5)]
    throttled = await sign_in(staffed, "omar")
    assert refused == [422] * 5
    assert (throttled.status_code, throttled.headers["retry-after"]) == (429, "900")
    assert throttled.json()["error"]["code"] == "sign_in_throttled" and "set-cookie" not in throttled.headers


@pytest.mark.parametrize("field", ["username", "password"])
async def test_a_megabyte_username_or_password_is_refused_before_anything_is_hashed(
        services: Services, staffed: RunningBridge, field: str) -> None:
    body = {"username": "omar", "password": PASSWORD} | {field: "x" * 1_000_000}
    response = await staffed.http.post("/session", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_body" and field in response.json()["error"]["message"]
    assert [line for line in await services.audit.recent() if line.action == "sign_in"] == []


@pytest.mark.parametrize(("headers", "status", "code"), [
    ({"Origin": "http://evil.example"}, 403, "invalid_origin"),
    ({"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
    ({"Content-Type": "text/plain"}, 415, "unsupported_media_type")])
async def test_a_sign_in_from_another_page_is_refused_and_signs_nobody_in(
        services: Services, staffed: RunningBridge, headers: dict[str, str], status: int, code: str) -> None:
    body = '{"username": "omar", "password": "%s"}' % PASSWORD
    response = await staffed.http.post("/session", content=body, headers={"Content-Type": "application/json"} | headers)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert "set-cookie" not in response.headers
    assert [line for line in await services.audit.recent() if line.action == "sign_in"] == []


async def test_a_cookie_planted_before_sign_in_is_never_adopted(services: Services, staffed: RunningBridge) -> None:
    planted = {"Cookie": f"{COOKIE}=attacker-chosen-value"}
    response = await sign_in(staffed, "omar", **planted)
    issued = response.cookies[COOKIE]
    staffed.http.cookies.clear()
    with_planted = await staffed.http.get("/customers/names", headers=planted)
    with_issued = await staffed.http.get("/customers/names", headers={"Cookie": f"{COOKIE}={issued}"})
    assert issued != "attacker-chosen-value" and len(issued) >= 40
    assert (with_planted.status_code, with_issued.status_code) == (401, 200)
    assert await services.sessions.principal("attacker-chosen-value") is None


async def test_each_sign_in_issues_a_new_session(services: Services, staffed: RunningBridge) -> None:
    first = await session_of(staffed, "omar")
    second = await session_of(staffed, "omar")
    async with services.db.reading() as session:
        sessions = await session.scalar(select(func.count()).select_from(StaffSession))
    assert first != second and sessions == 2


async def test_signing_out_ends_the_session_and_drops_the_cookie(services: Services, staffed: RunningBridge) -> None:
    cookie = await session_of(staffed, "omar")
    out = await staffed.http.delete("/session", headers=cookie)
    after = await staffed.http.get("/customers/names", headers=cookie)
    assert out.status_code == 200 and f'{COOKIE}=""' in out.headers["set-cookie"]
    assert after.status_code == 401
    assert [(line.actor, line.action) for line in await services.audit.recent()][0] == ("operator:omar", "sign_out")


async def test_with_accounts_this_machine_needs_a_session_too(staffed: RunningBridge) -> None:
    config = (await staffed.http.get("/config")).json()
    names = await staffed.http.get("/customers/names")
    who = await staffed.http.get("/session")
    with pytest.raises(InvalidStatus) as refused:
        async with connect(staffed.ws_url):
            pass
    assert (config["accounts"], config["token_required"]) == (True, False)
    assert (names.status_code, who.status_code, refused.value.response.status_code) == (401, 401, 403)
    assert names.json()["error"]["message"].startswith("Sign in to the console")


async def test_a_viewers_session_opens_the_realtime_channel(staffed: RunningBridge) -> None:
    cookie = await session_of(staffed, "vera")
    async with connect(staffed.ws_url, additional_headers=cookie) as sidebar:
        await sidebar.ping()


async def test_without_accounts_this_machine_is_the_one_operator(bridge: RunningBridge) -> None:  # noqa: F811
    config = (await bridge.http.get("/config")).json()
    who = await bridge.http.get("/session")
    assert config["accounts"] is False
    assert who.json() == {"user": {"username": "operator", "display_name": "operator", "role": "admin"},
                          "mode": "local"}


async def test_with_accounts_the_operator_token_still_opens_everything(services: Services,
                                                                       graph_api: FakeGraphApi) -> None:  # noqa: F811
    await services.staff.add("vera", "viewer", PASSWORD)
    settings = bridge_settings(graph_api, operator_token="clinic-token")
    async with running_bridge(services, graph_api, settings=settings) as running:
        token = {"Authorization": "Bearer clinic-token"}
        who = await running.http.get("/session", headers=token)
        closed = await running.http.post("/closures", json=WINTER, headers=token)
        bare = await running.http.get("/customers/names")
    assert who.json()["mode"] == "token" and who.json()["user"]["role"] == "admin"
    assert (closed.status_code, bare.status_code) == (200, 401)


async def test_a_viewer_reads_but_a_change_is_refused_naming_the_role_and_nothing_changes(
        services: Services, staffed: RunningBridge) -> None:
    reservation_id = await booked(services)
    cookie = await session_of(staffed, "vera")
    calendar = await staffed.http.get("/calendar", params={"start": DAY}, headers=cookie)
    cancel = await staffed.http.post("/batches/cancel", json={"requests": [{"reservation_id": reservation_id}]},
                                     headers=cookie)
    assert calendar.status_code == 200
    assert cancel.status_code == 403
    assert cancel.json()["error"] == {"code": "forbidden", "message": "This needs the operator role or above; you are "
                                      "signed in as vera, whose role is viewer."}
    assert await status_of(services, reservation_id) == "active"
    [line] = await audit_lines(services, 1)
    assert (line.actor, line.role, line.action, line.target, line.outcome) == (
        "operator:vera", "viewer", "http POST /batches/cancel", "/batches/cancel", "refused")


async def test_an_operators_change_is_made_and_signed_in_the_audit_log(services: Services,
                                                                       staffed: RunningBridge) -> None:
    reservation_id = await booked(services)
    cookie = await session_of(staffed, "omar")
    cancel = await staffed.http.post("/batches/cancel", json={"requests": [{"reservation_id": reservation_id}]},
                                     headers=cookie)
    assert cancel.status_code == 200 and await status_of(services, reservation_id) == "cancelled"
    [line] = await audit_lines(services, 1)
    assert (line.actor, line.role, line.action, line.outcome, line.detail) == (
        "operator:omar", "operator", "http POST /batches/cancel", "ok", {"status": 200})


async def test_only_an_admin_closes_and_reopens_days(services: Services, staffed: RunningBridge) -> None:
    operator, admin = await session_of(staffed, "omar"), await session_of(staffed, "amal")
    refused = await staffed.http.post("/closures", json=WINTER, headers=operator)
    closed = await staffed.http.post("/closures", json=WINTER, headers=admin)
    async with services.db.reading() as session:
        closure_id = await session.scalar(select(Vacation.id))
    not_reopened = await staffed.http.delete(f"/closures/{closure_id}", headers=operator)
    assert (refused.status_code, closed.status_code, not_reopened.status_code) == (403, 200, 403)
    assert "needs the admin role" in refused.json()["error"]["message"]
    lines = await audit_lines(services, 3)
    assert [(line.actor, line.action, line.outcome) for line in lines] == [
        ("operator:omar", "http DELETE /closures/{closure_id}", "refused"),
        ("operator:amal", "http POST /closures", "ok"),
        ("operator:omar", "http POST /closures", "refused")]


async def test_only_an_admin_reads_the_staff_and_the_audit_log(services: Services, staffed: RunningBridge) -> None:
    operator, admin = await session_of(staffed, "omar"), await session_of(staffed, "amal")
    refused = [(await staffed.http.get(path, headers=operator)).status_code for path in ("/staff", "/audit")]
    staff = (await staffed.http.get("/staff", headers=admin)).json()["staff"]
    page = (await staffed.http.get("/audit", params={"limit": 2, "outcome": "refused"}, headers=admin)).json()
    rest = (await staffed.http.get("/audit", params={"before": page["next_before"]}, headers=admin)).json()
    assert refused == [403, 403]
    assert [(user["username"], user["role"]) for user in staff] == [
        ("amal", "admin"), ("omar", "operator"), ("vera", "viewer")]
    assert [line["action"] for line in page["lines"]] == ["http GET /audit", "http GET /staff"]
    assert all(line["outcome"] == "refused" for line in page["lines"])
    assert "sign_in" in {line["action"] for line in rest["lines"]}


async def test_an_audit_query_with_an_unknown_outcome_is_refused(staffed: RunningBridge) -> None:
    response = await staffed.http.get("/audit", params={"outcome": "maybe"}, headers=await session_of(staffed, "amal"))
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_parameter")


async def test_a_disabled_accounts_open_session_stops_at_once(services: Services, staffed: RunningBridge) -> None:
    cookie = await session_of(staffed, "omar")
    before = await staffed.http.get("/customers/names", headers=cookie)
    await services.staff.disable("omar")
    after = await staffed.http.get("/customers/names", headers=cookie)
    assert (before.status_code, after.status_code) == (200, 401)


async def test_a_viewer_may_ask_the_system_agent(services: Services, staffed: RunningBridge) -> None:
    cookie = await session_of(staffed, "vera")
    agent = services.config.system_agent_wa_id
    asked = await staffed.http.post("/whatsapp/message", json={"wa_id": agent, "message": "how busy is Sunday?"},
                                    headers=cookie)
    assert asked.status_code == 202
    assert [m.text for m in await services.conversations.page(agent)][0] == "how busy is Sunday?"



async def test_a_viewer_may_not_message_a_customer_and_nothing_is_sent(
        services: Services, staffed: RunningBridge, graph_api: FakeGraphApi) -> None:  # noqa: F811
    await services.customers.ensure(CUSTOMER, "Sara")
    refused = await staffed.http.post("/whatsapp/message", json={"wa_id": CUSTOMER, "message": "see you soon"},
                                      headers=await session_of(staffed, "vera"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    assert graph_api.sent == [] and await services.conversations.page(CUSTOMER) == []
    [line] = await audit_lines(services, 1)
    assert (line.actor, line.action, line.outcome) == ("operator:vera", "http POST /whatsapp/message", "refused")
