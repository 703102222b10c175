"""Apply the Alembic migrations (the schema's source of truth) to a database URL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from domain.storage.database import Database

_MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`.

    The migration environment runs its own event loop, so it runs on a thread of its own: this
    works the same whether or not the caller is inside a running loop.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(command.upgrade, alembic_config(url), revision).result()


@cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def is_current(db: Database) -> bool:
    """Whether the database's schema is at the newest migration (the readiness check)."""
    async with db.reading() as session:
        version = await session.scalar(text("SELECT version_num FROM alembic_version"))
    return version is not None and version == head_revision()


async def answers(db: Database) -> bool:
    async with db.reading() as session:
        return bool(await session.scalar(text("SELECT 1")) == 1)
