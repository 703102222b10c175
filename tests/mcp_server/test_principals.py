"""Which tools a principal gets: a viewer's (or a read-only token's) are the read-only tools, an operator's the
writes too, an admin's the closures as well; a refusal names why and changes nothing."""


from mcp import Client
from mcp.server import MCPServer
from sqlalchemy import func, select

from chat_bridge.agent.acting import acting_for
from domain.services import Services
from domain.staff.roles import READ_SCOPE, Principal, Role
from domain.storage.models import BatchRecord, Reservation, Vacation
from mcp_scenario import WEDNESDAY, Seed, call, text
from mcp_server.principals import SYSTEM_AGENT, allowed, caller
from mcp_server.toolkit import READ_ONLY, WRITES

VIEWER = Principal("huda", Role.VIEWER)
OPERATOR = Principal("amal", Role.OPERATOR)
ADMIN = Principal("sami", Role.ADMIN)
READING_CLIENT = Principal("amal", Role.OPERATOR, scopes=(READ_SCOPE,), client="inspector")



async def active(services: Services) -> int:
    async with services.db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(Reservation)
                                        .where(Reservation.status == "active")) or 0)


def test_a_viewer_gets_the_reading_tools_only() -> None:
    assert allowed(VIEWER, "system_get_reservations", READ_ONLY)
    assert not allowed(VIEWER, "system_batch_cancel", WRITES)
    assert not allowed(VIEWER, "system_batch_cancel", None)


def test_an_operator_writes_but_closes_no_days_and_an_admin_does_both() -> None:
    assert allowed(OPERATOR, "system_batch_cancel", WRITES)
    assert not allowed(OPERATOR, "system_close_days", WRITES)
    assert allowed(ADMIN, "system_close_days", WRITES)


def test_a_token_granted_calendar_read_only_reads_whatever_its_person_may_do() -> None:
    assert not allowed(READING_CLIENT, "system_batch_reserve", WRITES)
    assert allowed(READING_CLIENT, "system_get_reservations", READ_ONLY)
    assert READING_CLIENT.actor == "mcp:amal@inspector"


def test_the_agent_signs_for_the_person_it_acts_for_and_the_token_as_the_system_agent() -> None:
    assert caller().actor == "system_agent" and caller().principal == SYSTEM_AGENT
    with acting_for(OPERATOR):
        assert caller().actor == "agent:amal"


async def test_a_viewers_session_lists_no_tool_that_writes(system_server: MCPServer) -> None:
    with acting_for(VIEWER):
        async with Client(system_server) as client:
            tools = (await client.list_tools()).tools
    assert tools and all(t.name == "more_tools" or (t.annotations and t.annotations.read_only_hint) for t in tools)
    assert "system_batch_cancel" not in {t.name for t in tools}


async def test_a_viewers_cancel_is_refused_by_name_and_nothing_changes(
        system_server: MCPServer, services: Services, seed: Seed) -> None:
    await seed([WEDNESDAY], 3)
    with acting_for(VIEWER):
        result = await call(system_server, "system_batch_cancel", {"filters": {"dates": WEDNESDAY}})
    assert result.is_error
    assert "huda is a viewer" in text(result) and "Nothing was changed" in text(result)
    assert await active(services) == 3


async def test_an_operator_cannot_close_days_through_more_tools(system_server: MCPServer, services: Services) -> None:
    arguments = {"tool": "system_close_days", "arguments": {"start_date": WEDNESDAY, "title": "Eid"}}
    with acting_for(OPERATOR):
        result = await call(system_server, "more_tools", arguments)
    assert result.is_error and "admin's tool" in text(result)
    async with services.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Vacation)) == 0


async def test_an_operators_cancel_is_signed_by_their_agent(
        system_server: MCPServer, services: Services, seed: Seed) -> None:
    await seed([WEDNESDAY], 2)
    with acting_for(OPERATOR):
        result = await call(system_server, "system_batch_cancel", {"filters": {"dates": WEDNESDAY}})
    assert not result.is_error and await active(services) == 0
    async with services.db.reading() as session:
        cancelled_by = select(BatchRecord.actor).where(BatchRecord.tool == "system_batch_cancel")
        assert (await session.scalars(cancelled_by)).all() == ["agent:amal"]
