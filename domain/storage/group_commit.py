"""Group commit: writes of one kind that arrive together commit in one transaction.

Fifty operators sending at once on SQLite meant fifty transactions in single file, each a BEGIN IMMEDIATE,
its statements and a COMMIT, every one a hop to the database's thread and back through a busy event loop.
A `GroupCommit` writes one group at a time: the writes that arrive while the group before is being written
(or while its transaction waits for SQLite's writer) form the next group, committed together in one
transaction, each caller told its own result when it commits. With nobody else writing it is one write in
one transaction, as before.

A group that fails is written again one item at a time, each in its own transaction, so that one bad item
(a redelivered message, say) fails alone. A caller that stops waiting (a closed request) does not stop the
write: what was accepted into a group is written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from domain.storage.database import Database

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Group(Generic[Item, Result]):
    items: list[Item] = field(default_factory=list)
    waiting: list[asyncio.Future[Result]] = field(default_factory=list)


class GroupCommit(Generic[Item, Result]):
    """`await group(item)`: `write(session, items)` stores `items` in the caller's transaction and returns
    their results in order; this commits what arrives together in one transaction."""

    def __init__(self, db: Database, write: Callable[[AsyncSession, Sequence[Item]], Awaitable[list[Result]]]) -> None:
        self.db = db
        self.write = write
        self._open: _Group[Item, Result] | None = None  # the group still taking items
        self._writing: set[asyncio.Task[None]] = set()
        self._last: asyncio.Task[None] | None = None  # the last group's write

    async def __call__(self, item: Item) -> Result:
        if self.db.in_unit_of_work():  # inside the caller's transaction (`Database.together`): part of it
            async with self.db.unit_of_work() as session:
                return (await self.write(session, [item]))[0]
        if self._last is not None and self._last.get_loop() is not asyncio.get_running_loop():
            self._open, self._last = None, None  # a new event loop (a test, a command): nothing of the old one waits
        group = self._open
        if group is None:
            group = self._open = _Group()
            task = asyncio.create_task(self._commit(group, self._last))
            self._last = task
            self._writing.add(task)
            task.add_done_callback(self._writing.discard)
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        group.items.append(item)
        group.waiting.append(done)
        return await asyncio.shield(done)

    async def _commit(self, group: _Group[Item, Result], previous: asyncio.Task[None] | None) -> None:
        try:
            if previous is not None:  # one group is written at a time: what comes meanwhile joins the next
                await asyncio.wait([previous])
            try:
                async with self.db.unit_of_work() as session:  # waits for the writer's turn: others join meanwhile
                    if self._open is group:
                        self._open = None  # from here on, a new item starts the next group
                    results = await self.write(session, group.items)
            except Exception as error:
                if len(group.items) == 1:
                    _fail(group.waiting[0], error)
                    return
                for item, done in zip(group.items, group.waiting, strict=True):
                    await self._alone(item, done)
                return
            for done, result in zip(group.waiting, results, strict=True):
                _succeed(done, result)
        finally:
            if self._open is group:
                self._open = None
            for done in group.waiting:  # cancelled (the process stops): nobody waits for ever
                done.cancel()

    async def _alone(self, item: Item, done: asyncio.Future[Result]) -> None:
        try:
            async with self.db.unit_of_work() as session:
                result = (await self.write(session, [item]))[0]
        except Exception as error:
            _fail(done, error)
        else:
            _succeed(done, result)


def _succeed(done: asyncio.Future[Result], result: Result) -> None:
    if not done.done():
        done.set_result(result)


def _fail(done: asyncio.Future[Result], error: BaseException) -> None:
    if not done.done():
        done.set_exception(error)
