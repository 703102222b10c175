"""The audit log on SQLite and PostgreSQL: lines read back newest first, a page at a time and filtered; a line
added in a unit of work stands or falls with it; and the database itself refuses to change or delete a line."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from domain.services import Services
from domain.staff.audit import OK, REFUSED, AuditEvent


async def three_lines(services: Services) -> None:
    await services.audit.record(AuditEvent("operator:amal", "http POST /batches/cancel", OK, "operator",
                                           "/batches/cancel", {"status": 200}))
    await services.audit.record(AuditEvent("operator:sara", "http POST /closures", REFUSED, "operator", "/closures"))
    await services.audit.record(AuditEvent("operator:amal", "sign_out", OK, "operator"))


async def test_lines_are_read_newest_first_a_page_at_a_time(services: Services) -> None:
    await three_lines(services)
    first = await services.audit.recent(limit=2)
    rest = await services.audit.recent(limit=2, before=first[-1].id)
    assert [line.action for line in first + rest] == ["sign_out", "http POST /closures", "http POST /batches/cancel"]
    assert rest[0].detail == {"status": 200} and rest[0].at == "2026-12-01T10:00:00+03:00"


async def test_lines_are_filtered_by_actor_and_by_outcome(services: Services) -> None:
    await three_lines(services)
    amal = await services.audit.recent(actor="operator:amal")
    refused = await services.audit.recent(outcome=REFUSED)
    assert [line.action for line in amal] == ["sign_out", "http POST /batches/cancel"]
    assert [(line.actor, line.target) for line in refused] == [("operator:sara", "/closures")]


async def test_a_line_added_in_a_unit_of_work_that_fails_is_not_kept(services: Services) -> None:
    with pytest.raises(RuntimeError):
        async with services.db.unit_of_work() as session:
            services.audit.add(session, AuditEvent("operator:amal", "user_add", target="sara"))
            raise RuntimeError("the change it records failed")
    assert await services.audit.recent() == []


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"])
async def test_the_database_refuses_to_change_or_delete_a_line(services: Services, statement: str) -> None:
    await three_lines(services)
    before = await services.audit.recent()
    with pytest.raises(DBAPIError, match="append-only"):
        async with services.db.engine.begin() as connection:
            await connection.execute(text(statement))
    assert await services.audit.recent() == before
