"""Engines and units of work. How concurrent writers are kept within a slot's capacity lives here.

SQLite: every transaction starts with BEGIN IMMEDIATE, so writers are serialised by the database
file's write lock and a count read inside a transaction cannot go stale before its insert commits.
PostgreSQL: a writer takes transaction-scoped advisory locks on every slot and customer it touches
(in sorted order, so two batches never deadlock) before it counts; competing writers of the same
slot queue on the lock and count again after the first one commits.

Short reads of several statements go through `read()`: on an SQLite file they run on a synchronous
connection, because aiosqlite hops between threads several times per statement.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import JSON, Connection, Engine, Text, bindparam, cast, create_engine, event, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql import ColumnElement

T = TypeVar("T")


# What a committed transaction changed: kind -> key -> value (see `note_change`).
Changes = dict[str, dict[str, Any]]
CommitListener = Callable[[Changes], None]
_CHANGED = "changed"


def note_change(session: AsyncSession, kind: str, key: str, value: Any = None) -> None:
    """Tell the commit listeners, once this transaction commits (never if it rolls back), that it changed
    `key` of `kind` (the search index hears of customers created, renamed or renumbered)."""
    session.info.setdefault(_CHANGED, {}).setdefault(kind, {})[key] = value


# The unit of work a caller opened with `Database.together()` in this task, and what waits for its commit.
_JOINED: ContextVar[tuple[Database, AsyncSession, list[Callable[[], Awaitable[None]]]] | None] = ContextVar(
    "joined_unit_of_work", default=None)


class Database:
    """One engine and its session factory; `unit_of_work()` is one transaction, `read()` one short read."""

    def __init__(self, engine: AsyncEngine, reader: Engine | None = None,
                 read_engine: AsyncEngine | None = None) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.reader = reader
        self.read_engine = read_engine
        readers = read_engine or (engine.execution_options(postgresql_readonly=True)
                                  if engine.dialect.name == "postgresql" else engine)
        self.read_sessions = async_sessionmaker(readers, expire_on_commit=False)
        self.commit_listeners: list[CommitListener] = []
        self._writers: _WriterLine | None = None  # see `_writer_turn`

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed when the block ends cleanly, else rolled back. After a
        commit, the commit listeners hear what it changed (see `note_change`). Inside `together()` it is the
        caller's transaction, which commits or rolls back as a whole."""
        if (joined := self._joined()) is not None:
            yield joined[1]
            return
        async with self._writer_turn(), self.sessions() as session:
            async with session.begin():
                yield session
        if changed := session.info.pop(_CHANGED, None):
            for listener in self.commit_listeners:
                listener(changed)

    def _writer_turn(self) -> contextlib.AbstractAsyncContextManager[None]:
        """On SQLite, this process's writers wait their turn in line: BEGIN IMMEDIATE would make each wait in
        SQLite's busy handler, which sleeps and tries again (up to 100 ms a time), so fifty concurrent writers
        spent most of their time asleep while the file was free. Other processes still meet the busy handler."""
        if not self.is_sqlite:
            return contextlib.nullcontext()
        loop = asyncio.get_running_loop()
        if self._writers is None or self._writers.loop is not loop:
            self._writers = _WriterLine(loop)
        return self._writers.turn()

    @asynccontextmanager
    async def together(self) -> AsyncIterator[AsyncSession]:
        """One transaction that the service verbs called inside the block join, so that what two verbs write
        commits together or not at all; what they tell listeners once committed (`after_commit`) is told after
        this block commits, and never when it rolls back. A read inside the block (`reading`) does not see its
        writes before the commit."""
        if self._joined() is not None:  # already inside one: join it
            async with self.unit_of_work() as session:
                yield session
            return
        deferred: list[Callable[[], Awaitable[None]]] = []
        async with self.unit_of_work() as session:
            token = _JOINED.set((self, session, deferred))
            try:
                yield session
            finally:
                _JOINED.reset(token)
        for work in deferred:
            await work()

    async def after_commit(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work` now, after the verb's own commit; inside `together()`, once the caller's block commits."""
        if (joined := self._joined()) is not None:
            joined[2].append(work)
        else:
            await work()

    def in_unit_of_work(self) -> bool:
        """Whether this task is inside a `together()` block of this database (its writes join that transaction)."""
        return self._joined() is not None

    def _joined(self) -> tuple[Database, AsyncSession, list[Callable[[], Awaitable[None]]]] | None:
        joined = _JOINED.get()
        return joined if joined is not None and joined[0] is self else None

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction that only reads. On an SQLite file its transaction is deferred on a
        connection that refuses to write: in WAL mode it never waits for a writer (a unit of work begins
        with BEGIN IMMEDIATE, and would queue behind one)."""
        async with self.read_sessions() as session, session.begin():
            yield session

    async def read(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` in one transaction that only reads, on a plain (synchronous) connection:
        one consistent snapshot however many statements it runs. Keep it short, and never write in it."""
        if self.reader is None:
            async with self.engine.connect() as connection:
                if self.engine.dialect.name == "postgresql":
                    await connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
                return await connection.run_sync(work)
        # Right here, not in a thread: a WAL reader never waits for a writer, and a worker thread
        # would wait for the event loop's GIL at every statement.
        with self.reader.connect() as reading, reading.begin():
            return work(reading)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not None:
            await self.read_engine.dispose()
        if self.reader is not None:
            self.reader.dispose()


SQLITE_BUSY_SECONDS = 60  # how long a writer waits for SQLite's file (the busy timeout) or its turn in line


class _WriterLine:
    """One process's SQLite writers, one at a time in arrival order (see `Database._writer_turn`)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.lock = asyncio.Lock()
        self.holder: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None and task is self.holder:
            # SQLite's file lock would make it wait for itself until the busy timeout: say so at once.
            raise RuntimeError("a unit of work opened inside another on SQLite: join it with Database.together()")
        try:
            async with asyncio.timeout(SQLITE_BUSY_SECONDS):
                await self.lock.acquire()
        except TimeoutError:
            raise OperationalError("waiting for the writer's turn", None,
                                   sqlite3.OperationalError("database is locked")) from None
        self.holder = task
        try:
            yield
        finally:
            self.holder = None
            self.lock.release()


def create_database(url: str, **engine_options: Any) -> Database:
    """Create the engine for `url` with the locking the capacity guarantee relies on."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS}, **engine_options)
        _serialise_sqlite_writers(engine)
        return Database(engine, _sqlite_reader(url, **engine_options), _sqlite_async_reader(url, **engine_options))
    # A custom plan for every execution: asyncpg prepares each statement, and after five runs PostgreSQL
    # may switch to a generic plan that ignores the bound dates (a year's listing went from about 60 ms
    # to about 900 ms a page from the sixth call). And a random page read priced as on solid-state storage
    # (the server's default of 4 assumes spinning disks): a clinic's calendar is read from memory or SSD,
    # and at the default the planner hashes every customer of a year rather than walk the customer index
    # in order (the year's totals: 28 ms hashed, 15 ms walking the index).
    settings = {"plan_cache_mode": "force_custom_plan", "random_page_cost": "1.1"}
    options = {"connect_args": {"server_settings": settings}} | engine_options
    engine = create_async_engine(url, pool_size=10, max_overflow=20, **options)
    return Database(engine)


# Pages kept per connection (SQLite's default is 2 MiB): a batch of 100,000 rewrites index pages all over
# the file, and with the default they are read again and again, so time grows faster than the batch (the
# SQL floor alone took 23x the time for 10x the rows; 11x with 16 MiB, and 32 MiB was no faster).
SQLITE_CACHE = "PRAGMA cache_size=-16384"  # KiB


def _sqlite_file(url: str) -> bool:
    """Whether `url` names a file another engine can open too (an in-memory database it would not see)."""
    parsed = make_url(url)
    return parsed.database not in (None, "", ":memory:") and parsed.query.get("mode") != "memory"


def _sqlite_rules(engine: Engine, begin: str, *pragmas: str) -> None:
    """Every connection of `engine` runs `pragmas`, and each transaction starts with `begin` (SQLAlchemy
    emits it, not pysqlite, whose implicit BEGIN is always DEFERRED)."""
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (*pragmas, SQLITE_CACHE):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)


# Readers: DEFERRED takes no write lock, and in WAL mode a reader reads one snapshot until it ends; its
# connections refuse to write. A short busy timeout: in WAL mode a reader only waits in rare recoveries.
_READER = ("BEGIN", "PRAGMA query_only=ON")


def _sqlite_reader(url: str, **engine_options: Any) -> Engine | None:
    """A synchronous engine over the same SQLite file for `Database.read` (it runs on the event loop)."""
    if not _sqlite_file(url):
        return None
    reader = create_engine(make_url(url).set(drivername="sqlite"),
                           connect_args={"timeout": 5, "check_same_thread": False}, **engine_options)
    _sqlite_rules(reader, *_READER)
    return reader


def _sqlite_async_reader(url: str, **engine_options: Any) -> AsyncEngine | None:
    """An async engine over the same SQLite file for `Database.reading`."""
    if not _sqlite_file(url):
        return None
    engine = create_async_engine(url, connect_args={"timeout": 5}, **engine_options)
    _sqlite_rules(engine.sync_engine, *_READER)
    return engine


def _serialise_sqlite_writers(engine: AsyncEngine) -> None:
    _sqlite_rules(engine.sync_engine, "BEGIN IMMEDIATE",
                  "PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL")


def lock_key(*parts: object) -> int:
    """A stable signed 64-bit key for an advisory lock."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


CALENDAR_KEY = lock_key("calendar")


FINE_LOCKS = 500  # a writer needing more locks than this locks the whole calendar instead


async def lock_for_write(session: AsyncSession, keys: Iterable[int]) -> bool:
    """Serialise writers of the same slots/customers (SQLite already is, by BEGIN IMMEDIATE).

    Every writer first holds the calendar's lock: shared, then its own keys, taken in the order given
    (callers pass customers first, then slots, each sorted, so every writer acquires locks in one global
    order and none waits in a cycle). A writer with more than FINE_LOCKS keys (a batch of thousands)
    holds the calendar's lock exclusively instead: one lock, where thousands would exhaust the server's
    lock table (`max_locks_per_transaction`).
    """
    if session.get_bind().dialect.name != "postgresql":
        return False
    ordered = list(dict.fromkeys(keys))
    if len(ordered) > FINE_LOCKS:
        return await lock_whole_calendar(session)
    if ordered:
        # One round trip: the calendar's shared lock first, then unnest yields the keys in array order.
        await session.execute(_LOCK_MANY, {"key": CALENDAR_KEY, "keys": ordered})
    return True


async def lock_whole_calendar(session: AsyncSession) -> bool:
    """The calendar's lock, exclusively (PostgreSQL): no other writer runs until this transaction ends."""
    return await lock_exclusively(session, CALENDAR_KEY)


async def lock_exclusively(session: AsyncSession, key: int) -> bool:
    """`key`'s advisory lock until this transaction ends (PostgreSQL; SQLite's writers are serialised already)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    await session.execute(_LOCK_EXCLUSIVE, {"key": key})
    return True


_LOCK_EXCLUSIVE = text("SELECT pg_advisory_xact_lock(:key)")
_LOCK_MANY = text("SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT pg_advisory_xact_lock_shared(:key)) AS "
                  "calendar, unnest(CAST(:keys AS bigint[])) AS k")


def json_text(session: AsyncSession, name: str) -> ColumnElement[Any]:
    """A JSON column's value from the parameter `name`, JSON text already written (no objects built to
    encode it): cast on PostgreSQL; SQLite keeps JSON as text."""
    value = bindparam(name, type_=Text)
    return cast(value, JSON) if session.get_bind().dialect.name == "postgresql" else value
