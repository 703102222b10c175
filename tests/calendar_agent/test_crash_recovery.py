"""kill -9 during an agent turn: `calendar-agent serve` started again runs the turn once more and the operator
gets exactly one answer (SQLite, one process; the job and its lease are in the database)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncio
from datetime import date, timedelta

import httpx2
import pytest
from sqlalchemy.engine import make_url

from calendar_agent.bootstrap.serve import SHUTDOWN_GRACE_SECONDS
from calendar_agent.migrate import upgrade
from calendar_agent.settings import load_settings
from domain.storage.database import create_database
from domain.services import build_services
from tests.acceptance.support import calendar, fill
from tests.fakes.fixtures import anthropic_api, anthropic_server  # noqa: F401 (fixtures)
from tests.fakes.llm import Call, Reply, ScriptedLLM, Stall

AGENT = "12125550123"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Serve:
    """`calendar-agent serve` in a process of its own, on one SQLite file."""

    def __init__(self, tmp_path: Path, llm: ScriptedLLM) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
                    "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/calendar.db", "LLM_PROVIDER": "anthropic",
                    "ANTHROPIC_BASE_URL": llm.url, "ANTHROPIC_API_KEY": "test-key", "LLM_MAX_RETRIES": "0",
                    "LLM_TIMEOUT_SECONDS": "120", "QUEUE_LEASE_SECONDS": "3", "QUEUE_POLL_SECONDS": "0.1",
                    # The service runs on the real clock: notices go at once whatever the hour (quiet hours would
                    # hold a notice sent at night until the morning).
                    "REMINDER_TIME": "", "QUIET_HOURS": ""}
        self.cwd = tmp_path
        self.database_url = self.env["DATABASE_URL"]
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tmp_path / "serve.log"  # stderr of every start, appended

    def start(self) -> None:
        """Start the service, creating its SQLite calendar first as `calendar-agent db upgrade` would: `serve`
        refuses to open a calendar that does not exist."""
        url = make_url(self.env["DATABASE_URL"])
        if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
            upgrade(self.env["DATABASE_URL"])
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "calendar_agent.cli", "serve", "--port", str(self.port)],
                cwd=self.cwd, env=self.env, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx2.get(f"{self.url}/ready", timeout=1).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("calendar-agent serve did not become ready")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM, as a supervisor stops the service: it drains its turns for up to SHUTDOWN_GRACE_SECONDS (a turn
        waiting for an operator's answer waits that long), then exits; killed if it has not by a minute after."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(SHUTDOWN_GRACE_SECONDS + 60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
                raise


@pytest.fixture
def serve(tmp_path: Path, anthropic_api: ScriptedLLM) -> Iterator[Serve]:  # noqa: F811 (fixture)
    running = Serve(tmp_path, anthropic_api)
    yield running
    running.stop()


def wait_for(check: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def conversation(serve: Serve) -> list[tuple[str, str]]:
    messages = httpx2.get(f"{serve.url}/conversations/{AGENT}", timeout=10).json()["messages"]
    return [(m["role"], m["text"]) for m in messages if m["role"] != "tool"]


def test_a_turn_cut_by_kill_9_is_answered_once_after_the_restart(
    serve: Serve, anthropic_api: ScriptedLLM  # noqa: F811 (fixture)
) -> None:
    anthropic_api.script(Stall(600), Reply("Sunday has 15 free places."))
    serve.start()
    accepted = httpx2.post(f"{serve.url}/whatsapp/message", json={"wa_id": AGENT, "message": "what is free on Sunday?"},
                           timeout=10)
    assert accepted.status_code == 202
    wait_for(lambda: len(anthropic_api.bodies) == 1)  # the turn is waiting for the model

    serve.kill()
    serve.start()

    wait_for(lambda: ("assistant", "Sunday has 15 free places.") in conversation(serve))
    time.sleep(1.5)  # a second answer would have come by now: the lease is 3 s, the poll 0.1 s
    assert conversation(serve) == [("secretary", "what is free on Sunday?"),
                                   ("assistant", "Sunday has 15 free places.")]
    assert len(anthropic_api.bodies) == 2


def rows(serve: Serve) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = httpx2.get(f"{serve.url}/conversations/{AGENT}", timeout=10).json()["messages"]
    return messages


def questions(serve: Serve) -> list[dict[str, Any]]:
    return [m for m in rows(serve) if (m.get("meta") or {}).get("kind") == "confirmation"]


async def book_next_week(database_url: str, count: int) -> tuple[str, str]:
    """`count` bookings from a week on, stored beside the running service; their first and last day."""
    db = create_database(database_url)
    try:
        services = build_services(load_settings().clinic_config(), db)
        places = await fill(services, (date.today() + timedelta(days=7)).isoformat(), count)
    finally:
        await db.dispose()
    return places[0][0], places[-1][0]


async def statuses(database_url: str) -> list[str]:
    db = create_database(database_url)
    try:
        return [booking.status for booking in await calendar(build_services(load_settings().clinic_config(), db))]
    finally:
        await db.dispose()


def test_a_confirmation_left_waiting_by_kill_9_is_expired_and_the_turn_asks_again_after_the_restart(
    serve: Serve, anthropic_api: ScriptedLLM  # noqa: F811 (fixture)
) -> None:
    serve.start()
    first, last = asyncio.run(book_next_week(serve.database_url, 25))
    cancel = Call("system_batch_cancel", {"filters": {"start_date": first, "end_date": last}})
    anthropic_api.script(Reply(calls=(cancel,)), Reply(calls=(cancel,)), Reply("Cancelled the 25 reservations."))
    request = "cancel next week: the doctor is away"
    accepted = httpx2.post(f"{serve.url}/whatsapp/message", json={"wa_id": AGENT, "message": request}, timeout=10)
    assert accepted.status_code == 202
    wait_for(lambda: len(questions(serve)) == 1)  # the tool waits for the operator's answer

    serve.kill()
    serve.start()

    wait_for(lambda: len(questions(serve)) == 2)  # the turn ran again and asked again
    old, new = questions(serve)
    assert old["meta"]["state"] == "expired" and new["meta"]["state"] == "pending"
    answer = f"{serve.url}/confirmations/{old['meta']['confirmation_id']}"
    gone = httpx2.post(answer, json={"accept": True}, timeout=10)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "confirmation_not_found", gone.text
    assert set(asyncio.run(statuses(serve.database_url))) == {"active"}  # the dead turn's question does nothing
    taken = httpx2.post(f"{serve.url}/confirmations/{new['meta']['confirmation_id']}", json={"accept": True},
                        timeout=10)
    assert taken.status_code == 200, taken.text

    wait_for(lambda: ("assistant", "Cancelled the 25 reservations.") in conversation(serve))
    assert asyncio.run(statuses(serve.database_url)) == ["cancelled"] * 25
    assert [(m["role"], m["text"]) for m in rows(serve) if m["role"] != "tool"][0] == ("secretary", request)
    replies = [m for m in rows(serve) if m["role"] == "assistant" and (m.get("meta") or {}).get("kind") is None]
    assert [m["text"] for m in replies] == ["Cancelled the 25 reservations."]
    # The re-run turn saw the operator's request only: not the question its dead predecessor had asked.
    assert anthropic_api.seen[1].texts == [("user", request)]
    assert len(anthropic_api.bodies) == 3
