"""What the model is sent per request, and how much of it a prompt cache can serve. Prints JSON.

The real service (`build_service_app`) runs on loopback over a temporary SQLite calendar with the demo data; the
model is the fake Anthropic API (a real HTTP server on loopback, so the real SDK client runs). The operator's
standard requests run through the real agent loop, each a turn of scripted tool calls: list a day, move a day
with notices, cancel by name, undo, close days, recall and message. Every request body the model receives is
measured in characters of JSON:

- `fixed_prefix`: the tools and the system prompt every turn shares (what the first request of a turn can read
  from the cache, the turns before it having written it);
- per request: its size, and the part of it a cache can serve (the fixed prefix on a turn's first request; on
  its later requests, everything the request before it sent, which ends at the breakpoint on its newest block;
  nothing on a request whose tools differ from the ones cached, which toolsets reached through `more_tools`
  never cause);
- `tools_list_bytes`: the MCP `tools/list` answer the client reads.

Two runs on fresh copies of the demo calendar: `toolsets` as shipped (the core tools and `more_tools`; the
closures and the recall read their toolset, then run through it), and the baseline `every_tool_listed`
(`MCP_TOOLSETS=all`: every tool in every request, called directly); the ratios compare the two.

Tokens are counted with OpenAI's o200k_base and cl100k_base tokenizers (the fixed prefix, everything sent) and
estimated as characters / 4 for Anthropic, whose tokenizer is not published; the shares are exact in characters.
Confirmations are answered yes as the operator would, and the limits are raised so that each request asks at
most once (the fuzzy cancel always asks).

    .venv/bin/python bench/tokens_bench.py
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bpe_openai  # noqa: E402
import httpx2  # noqa: E402
from mcp import Client  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from calendar_agent.bootstrap.mcp import system_server_for  # noqa: E402
from calendar_agent.bootstrap.serve import build_service_app  # noqa: E402
from calendar_agent.migrate import upgrade  # noqa: E402
from calendar_agent.settings import load_settings  # noqa: E402
from domain.storage.database import create_database  # noqa: E402
from domain.calendar.demo import seed_demo  # noqa: E402
from domain.storage.models import Customer, Reservation  # noqa: E402
from domain.services import build_services  # noqa: E402
from tests.fakes.llm import Call, FakeAnthropic, Reply, Respond, SeenRequest, more, read_toolset  # noqa: E402
from tests.fakes.loopback import serve_in_thread, serve_on_loopback  # noqa: E402

logging.disable(logging.INFO)
AGENT = "12125550123"
CHARS_PER_TOKEN = 4
# OpenAI's tokenizers (`bpe-openai`, offline); Anthropic publishes none, so its counts are estimated as
# characters / CHARS_PER_TOKEN beside them.
ENCODINGS = {name: bpe_openai.get_encoding(name) for name in ("o200k_base", "cl100k_base")}
LIMITS = "bookings=10000/off messaged=10000/off free_text=10000/off days_closed=10000/off closure_bookings=10000/off"


def undo_last(seen: SeenRequest) -> Reply:
    """Undo the newest batch the listing names (its first row, after the headline and the columns)."""
    batch = seen.last_result.split("\n")[2].split("|", 1)[0]
    return Reply(calls=(Call("system_undo_batch", {"batch_id": batch}),))


def requests(day: str, next_day: str, name: str, listed: bool) -> list[tuple[str, list[Any]]]:
    """The operator's standard requests and the scripted model's steps for each. A toolset's tool is called
    directly when `listed` (MCP_TOOLSETS=all), else read and run through `more_tools`."""
    def toolset(name: str) -> list[Any]:
        return [] if listed else [Reply(calls=(read_toolset(name),))]

    def use(tool: str, arguments: dict[str, Any]) -> Call:
        return Call(tool, arguments) if listed else more(tool, arguments)
    return [
        ("list a day", [Reply(calls=(Call("get_current_datetime"),)),
                        Reply(calls=(Call("system_get_reservations", {"dates": [day]}),)), Reply("Listed.")]),
        ("move a day with notices", [Reply(calls=(Call("system_batch_modify", {
            "filters": {"dates": [day]}, "updates": {"new_date": next_day}, "notify": True}),)), Reply("Moved.")]),
        ("undo", [Reply(calls=(Call("system_get_batch", {}),)), Respond(undo_last), Reply("Undone.")]),
        ("cancel by name", [Reply(calls=(Call("system_batch_cancel", {"filters": {"search_query": name}}),)),
                            Reply("Cancelled.")]),
        ("close days", [*toolset("closures"), Reply(calls=(use("system_close_days", {
            "start_date": "2027-01-10", "end_date": "2027-01-12", "title": "Training"}),)), Reply("Closed.")]),
        ("recall and message", [*toolset("messaging"),
                                Reply(calls=(use("system_find_customers", {"last_visit_before": day}),)),
                                Reply(calls=(use("system_message_customers", {
                                    "text": "We have missed you; reply to book.", "start_date": next_day}),)),
                                Reply("Sent.")]),
    ]


async def until_turn_ends(http: httpx2.AsyncClient, sidebar: ClientConnection) -> None:
    """Watch the sidebar until typing stops, accepting each confirmation as the operator would."""
    while True:
        event = json.loads(await sidebar.recv())
        if event["type"] == "confirmation_request":
            await http.post(f"/confirmations/{event['confirmation_id']}", json={"accept": True})
        if event["type"] == "conversation_typing" and event["wa_id"] == AGENT and event["typing"] is False:
            return


def measured(body: dict[str, Any]) -> dict[str, int]:
    """A request's size in characters of JSON: tools, the shared system prompt, the rest; and which tools it
    offered (a cache entry begins with the tools, so a request offering others reads nothing from it)."""
    tools = len(json.dumps(body.get("tools") or [], ensure_ascii=False))
    system = body.get("system") or []
    shared = len(json.dumps(system[:1], ensure_ascii=False)) if isinstance(system, list) else 0
    total = len(json.dumps(body, ensure_ascii=False))
    offered = hash(tuple(tool["name"] for tool in body.get("tools") or []))
    prefix = json.dumps(body.get("tools") or [], ensure_ascii=False) + json.dumps(
        system[:1] if isinstance(system, list) else [], ensure_ascii=False)
    return {"tools": tools, "shared_system": shared, "total": total, "offered": offered,
            **{f"prefix_{name}": len(encoding.encode(prefix)) for name, encoding in ENCODINGS.items()},
            "total_o200k": len(ENCODINGS["o200k_base"].encode(json.dumps(body, ensure_ascii=False)))}


async def tools_list_bytes(services: Any, settings: Any) -> int:
    """The `tools/list` answer's bytes, as a client of this configuration reads it."""
    async with Client(system_server_for(services, settings)) as client:
        listed = await client.list_tools()
    return len(listed.model_dump_json(by_alias=True, exclude_none=True).encode())


async def main() -> None:
    toolsets = await measure_run(toolsets="")
    every = await measure_run(toolsets="all")
    print(json.dumps({
        "bench": "what the model is sent", "model": "fake Anthropic",
        "toolsets": toolsets, "every_tool_listed": every,
        "fixed_prefix_ratio": round(toolsets["fixed_prefix_chars"] / every["fixed_prefix_chars"], 3),
        "tokens_sent_ratio": round(toolsets["approx_tokens_sent"] / every["approx_tokens_sent"], 3),
        "tokens_sent_o200k_ratio": round(toolsets["tokens_sent_o200k"] / every["tokens_sent_o200k"], 3),
        "tools_list_ratio": round(toolsets["tools_list_bytes"] / every["tools_list_bytes"], 3),
    }))


async def measure_run(toolsets: str) -> dict[str, Any]:
    """The six requests through `serve` with `MCP_TOOLSETS=toolsets`, on a fresh copy of the demo calendar."""
    fake = FakeAnthropic()
    with tempfile.TemporaryDirectory() as folder, serve_in_thread(fake.app) as model_url:
        fake.url = model_url
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        upgrade(url)
        settings = load_settings(database_url=url, confirmation_limits=LIMITS, mcp_toolsets=toolsets,
                                 **fake.settings_overrides())
        services = build_services(settings.clinic_config(), create_database(url), limits=settings.effect_limits())
        await seed_demo(services.db, services.config)
        day, next_day, name = await a_busy_day(services)
        rows = []
        app = build_service_app(settings, services=services)
        async with serve_on_loopback(app) as base, httpx2.AsyncClient(base_url=base, timeout=60) as http:
            async with connect("ws" + base.removeprefix("http") + "/ws") as sidebar:
                for what, steps in requests(day, next_day, name, listed=bool(toolsets)):
                    first = len(fake.bodies)
                    fake.script(*steps)
                    await http.post("/whatsapp/message", json={"wa_id": AGENT, "message": what})
                    await until_turn_ends(http, sidebar)
                    rows.append((what, [measured(b) for b in fake.bodies[first:]]))
        listed = await tools_list_bytes(services, settings)
        await services.db.dispose()
    return summary(rows, listed)


def summary(rows: list[tuple[str, list[dict[str, int]]]], listed: int) -> dict[str, Any]:
    prefix = rows[0][1][0]["tools"] + rows[0][1][0]["shared_system"]
    turns, sent, cacheable, later_sent, later_cacheable = [], 0, 0, 0, 0
    for what, sizes in rows:
        for n, size in enumerate(sizes):
            before = rows[0][1][0] if n == 0 else sizes[n - 1]
            cached = 0 if before["offered"] != size["offered"] else prefix if n == 0 else before["total"]
            sent, cacheable = sent + size["total"], cacheable + min(cached, size["total"])
            if n:
                later_sent, later_cacheable = later_sent + size["total"], later_cacheable + min(cached, size["total"])
        turns.append({"request": what, "model_requests": len(sizes),
                      "approx_tokens": [round(s["total"] / CHARS_PER_TOKEN) for s in sizes]})
    first = rows[0][1][0]
    return {
        "tools_list_bytes": listed, "fixed_prefix_chars": prefix,
        "fixed_prefix_approx_tokens": round(prefix / CHARS_PER_TOKEN),
        "fixed_prefix_tokens": {name: first[f"prefix_{name}"] for name in ENCODINGS},
        "tokens_sent_o200k": sum(size["total_o200k"] for _, sizes in rows for size in sizes),
        "tools_chars": rows[0][1][0]["tools"], "shared_system_chars": rows[0][1][0]["shared_system"],
        "turns": turns, "approx_tokens_sent": round(sent / CHARS_PER_TOKEN),
        "cacheable_share": round(cacheable / sent, 3),
        "cacheable_share_from_second_request": round(later_cacheable / later_sent, 3) if later_sent else None,
    }


async def a_busy_day(services: Any) -> tuple[str, str, str]:
    """The demo's busiest upcoming day, the day after it, and the first name of one of its customers."""
    today = services.clock().date()
    async with services.db.reading() as session:
        day, _ = (await session.execute(
            select(Reservation.date, func.count()).where(Reservation.status == "active", Reservation.date > today)
            .group_by(Reservation.date).order_by(func.count().desc(), Reservation.date).limit(1))).one()
        name = await session.scalar(select(Customer.name).join(Reservation, Reservation.wa_id == Customer.wa_id)
                                    .where(Reservation.date == day, Customer.name.is_not(None)).limit(1))
    return day.isoformat(), (day + timedelta(days=1)).isoformat(), str(name or "a").split()[0]


if __name__ == "__main__":
    asyncio.run(main())
