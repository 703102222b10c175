"""Migrations that move data: what a row left by an older version means under the new code."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert, select

from calendar_agent.migrate import upgrade
from domain.storage.database import create_database
from domain.storage.models import Notice
from tests.conftest import NOW


async def test_a_notice_left_sending_by_a_version_without_send_records_counts_as_begun(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'calendar.db'}"
    upgrade(url, "0010")
    db = create_database(url)
    try:
        row = {"wa_id": "966501111111", "purpose": "notice", "language": "en", "parameters": [], "text": "Hello",
               "attempts": 1, "available_at": NOW, "created_at": NOW, "updated_at": NOW}
        async with db.unit_of_work() as session:
            await session.execute(insert(Notice), [dict(row, status="sending", worker="old:1"),
                                                   dict(row, status="queued", attempts=0)])
        upgrade(url, "head")
        async with db.reading() as session:
            begun = (await session.execute(select(Notice.status, Notice.attempted_at).order_by(Notice.id))).all()
    finally:
        await db.dispose()
    assert [tuple(r) for r in begun] == [("sending", NOW), ("queued", None)]
