"""One system-agent turn end to end, with a model that answers at once and makes two tool calls. Prints JSON.

The real service (`build_service_app`) runs on loopback over a temporary SQLite calendar; the model is the
fake Anthropic API (a real HTTP server on loopback, so the real SDK client runs). Measured: from the
operator's POST to the reply arriving on a sidebar's WebSocket. The fake answers in well under a
millisecond, so the figure is the service's own overhead: two model round trips, two MCP tool calls,
four stored rows and their broadcasts.
"""

from __future__ import annotations

import asyncio
import logging
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from domain.services import build_services  # noqa: E402
from calendar_agent.migrate import upgrade  # noqa: E402
from calendar_agent.bootstrap.serve import build_service_app  # noqa: E402
from calendar_agent.settings import load_settings  # noqa: E402
from domain.storage.database import create_database  # noqa: E402
from domain.calendar.demo import seed_demo  # noqa: E402
from tests.fakes.llm import Call, FakeAnthropic, Reply  # noqa: E402
from tests.fakes.loopback import serve_in_thread, serve_on_loopback  # noqa: E402

TURNS = 40
logging.disable(logging.INFO)
AGENT = "12125550123"


async def turn(http: httpx2.AsyncClient, sidebar: object, n: int) -> float:
    started = time.perf_counter()
    await http.post("/whatsapp/message", json={"wa_id": AGENT, "message": f"who is booked this week? ({n})"})
    while True:
        event = json.loads(await sidebar.recv())  # type: ignore[attr-defined]
        if event["type"] == "conversation_new_message" and event["message"]["role"] == "assistant":
            return (time.perf_counter() - started) * 1000


async def main() -> None:
    fake = FakeAnthropic()
    with tempfile.TemporaryDirectory() as folder, serve_in_thread(fake.app) as model_url:
        fake.url = model_url
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        upgrade(url)
        settings = load_settings(database_url=url, **fake.settings_overrides())
        services = build_services(settings.clinic_config(), create_database(url))
        await seed_demo(services.db, services.config)
        app = build_service_app(settings, services=services)
        timings = []
        async with serve_on_loopback(app) as base, httpx2.AsyncClient(base_url=base) as http:
            async with connect("ws" + base.removeprefix("http") + "/ws") as sidebar:
                for n in range(TURNS):
                    fake.script(Reply(calls=(Call("get_current_datetime"),
                                             Call("system_get_reservations", {"max_results": 20}))),
                                Reply("Here is this week."))
                    timings.append(await turn(http, sidebar, n))
        await services.db.dispose()
    warm = sorted(timings[5:])
    print(json.dumps({"bench": "system-agent turn, two tool calls, instant model", "turns": len(warm),
                      "p50_ms": round(statistics.median(warm), 1),
                      "p95_ms": round(warm[int(len(warm) * 0.95) - 1], 1)}))


if __name__ == "__main__":
    asyncio.run(main())
