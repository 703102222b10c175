"""The database a command is about to use, checked before anything runs on it: `DATABASE_URL` parses, names an
asyncio driver that is installed, answers, and is a calendar that exists. Each failure is one sentence naming
DATABASE_URL and what to fix (`SettingsError`), never a traceback.

`serve` and `mcp` never create a calendar: a SQLite file that does not exist is refused, since a mistyped path
(or a relative one read from another folder) would otherwise open a new, empty calendar in its place and
answer from it as if nothing were wrong. `db upgrade` and `seed-demo` create it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from calendar_agent.migrate import answers, upgrade
from calendar_agent.settings import SettingsError
from domain.storage.database import create_database

INVALID = "Invalid setting DATABASE_URL: "
EXAMPLES = "sqlite+aiosqlite:///path/to/calendar.db or postgresql+asyncpg://user:password@host:5432/database"
ANSWER_SECONDS = 15.0  # an unroutable host would otherwise keep the command waiting for a minute


def prepare_database(database_url: str, *, may_create: bool) -> None:
    """Check the database (see the module's docstring) and apply the migrations. `may_create`: a SQLite file
    that does not exist yet is created, with its folder (`db upgrade`, `seed-demo`); otherwise it is refused."""
    url = parsed(database_url)
    if url.get_backend_name() == "sqlite":
        check_sqlite_file(url, may_create)
    else:
        check_server(database_url, url)
    upgrade(database_url)


def parsed(database_url: str) -> URL:
    """The URL, with a driver that is known, installed and asyncio."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise SettingsError(f"{INVALID}it is not a database URL; write {EXAMPLES}.") from None
    try:
        dialect = url.get_dialect()
        dialect.import_dbapi()
    except NoSuchModuleError:
        raise SettingsError(f"{INVALID}there is no driver {url.drivername!r}; use sqlite+aiosqlite or "
                            "postgresql+asyncpg.") from None
    except ImportError as error:
        raise SettingsError(f"{INVALID}the driver of {url.drivername!r} is not installed ({error}); use "
                            "sqlite+aiosqlite or postgresql+asyncpg.") from None
    if not getattr(dialect, "is_async", False):
        raise SettingsError(f"{INVALID}{url.drivername!r} is not an asyncio driver; use sqlite+aiosqlite or "
                            "postgresql+asyncpg.")
    return url


def check_sqlite_file(url: URL, may_create: bool) -> None:
    """An in-memory database passes; a file must exist (else be creatable) and open for reading and writing."""
    if not url.database or url.database == ":memory:":
        return
    path = Path(url.database)
    if not path.exists():
        if not may_create:
            raise SettingsError(f"{INVALID}there is no calendar at {path}; create one with `calendar-agent db "
                                "upgrade` (or `seed-demo`), or fix the path.")
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    try:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True)) as connection:
            connection.execute("PRAGMA schema_version")  # a file that is not a database fails here
    except sqlite3.Error as error:
        raise SettingsError(f"{INVALID}{path} does not open as a SQLite database ({error}); fix the path or "
                            "its permissions.") from None


def check_server(database_url: str, url: URL) -> None:
    """The server answers a query on that database, as that user."""
    try:
        asyncio.run(asyncio.wait_for(_answer(database_url), ANSWER_SECONDS))
    except Exception as error:  # whatever stops the first query stops the command: say what and where
        raise SettingsError(f"{INVALID}{why_not(error, url)}") from None


async def _answer(database_url: str) -> None:
    db = create_database(database_url)
    try:
        await answers(db)
    finally:
        await db.dispose()


def why_not(error: BaseException, url: URL) -> str:
    """What stopped the first query, and what to fix."""
    cause = _root(error)
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    kind = type(cause).__name__
    if kind == "InvalidCatalogNameError":
        return f"the database {url.database!r} does not exist on {where}; create it, or fix the name."
    if kind in ("InvalidPasswordError", "InvalidAuthorizationSpecificationError"):
        return f"{where} refused the user {url.username!r} ({cause}); fix the user or the password."
    if isinstance(cause, TimeoutError):
        return f"{where} did not answer within {ANSWER_SECONDS:.0f} s; start the server, or fix the host and port."
    if isinstance(cause, OSError | OverflowError):
        return f"cannot reach {where} ({cause}); start the server, or fix the host and port."
    return f"the database at {where} did not answer ({kind}: {str(cause).splitlines()[0] if str(cause) else ''})."


def _root(error: BaseException) -> BaseException:
    """The first exception of the chain, where the driver says what went wrong."""
    while error.__cause__ is not None:
        error = error.__cause__
    return error
