"""Database.read and Database.reading: reads in one snapshot, never a write, never behind a writer."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import DBAPIError

from domain.services import Services
from domain.storage.database import Database, create_database
from domain.storage.models import Customer
from domain.storage.store import ensure_customers


async def add_customer(db: Database, wa_id: str) -> None:
    async with db.unit_of_work() as session:
        await session.execute(insert(Customer), [{"wa_id": wa_id, "name": "Sara"}])


def customer_count(connection: Connection) -> int:
    return int(connection.scalar(select(func.count()).select_from(Customer)) or 0)


async def test_read_sees_what_units_of_work_committed(db: Database) -> None:
    await add_customer(db, "966501234567")

    assert await db.read(customer_count) == 1


async def test_read_returns_what_its_work_returns_on_both_databases(db: Database) -> None:
    await add_customer(db, "966501234567")

    names = await db.read(lambda connection: list(connection.scalars(select(Customer.name))))

    assert names == ["Sara"]


async def test_read_refuses_to_write(db: Database) -> None:
    def write(connection: Connection) -> None:
        connection.execute(insert(Customer), [{"wa_id": "966501234567"}])

    with pytest.raises(DBAPIError, match="read-only|readonly"):
        await db.read(write)
    assert await db.read(customer_count) == 0


async def test_in_memory_sqlite_reads_through_its_own_engine() -> None:
    db = create_database("sqlite+aiosqlite:///:memory:")
    async with db.engine.begin() as connection:
        await connection.run_sync(Customer.metadata.create_all)
    await add_customer(db, "966501234567")

    assert db.reader is None
    assert await db.read(customer_count) == 1
    await db.dispose()


async def test_readers_answer_while_a_writer_holds_its_transaction(services: Services) -> None:
    """On SQLite a unit of work holds the file's write lock until it ends: the contact list, a customer, the
    search, a conversation, availability and the statistics read without queueing behind it, and see
    only what was committed."""
    await services.customers.ensure("966501110001", "Omar Haddad")
    await services.conversations.append("966501110001", "user", "hello")
    async with services.db.unit_of_work() as session:
        await ensure_customers(session, {"966501110009": "Pending Person"})
        contacts = [c.wa_id for c in await services.customers.contacts()]
        customer = await services.customers.get("966501110001")
        found = [hit.wa_id for hit in await services.search.search("Omar")]
        page = await services.conversations.page("966501110001")
        days = await services.availability.search("2026-12-06")
        snapshot = await services.queries.reservation_snapshot("2026-12-06")
    assert contacts == [services.config.system_agent_wa_id, "966501110001"]
    assert customer is not None and customer.name == "Omar Haddad"
    assert found == ["966501110001"] and [m.text for m in page] == ["hello"]
    assert days[0]["date"] == "2026-12-06" and snapshot["days"][0]["date"] == "2026-12-06"


async def test_a_reading_session_refuses_to_write(db: Database) -> None:
    with pytest.raises(DBAPIError, match="read-only|readonly"):
        async with db.reading() as session:
            await session.execute(insert(Customer), [{"wa_id": "966501234567"}])
    assert await db.read(customer_count) == 0
