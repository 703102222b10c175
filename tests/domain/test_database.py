"""Database.read: short reads on a plain connection, one snapshot, never a write."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import DBAPIError

from domain.database import Database, create_database
from domain.models import Customer


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
