"""The MCP server's speed and answer sizes, on SQLite. Prints JSON.

- one `system_batch_modify` call moving 1,000 (then 10,000) reservations to other days (median of 5,
  and the batch service alone), against the same moves through `ReservationService.modify` one by
  one (`--quick` skips that loop at 10,000: it takes minutes);
- the round trip of a small `system_get_reservations` over streamable HTTP against a no-op tool;
- the size of every tool's default answer at 10,000 affected reservations, and of `tools/list`.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvicorn  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.server import MCPServer  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from domain.services import Services, build_services  # noqa: E402
from calendar_agent.migrate import upgrade  # noqa: E402
from domain.config import ClinicConfig  # noqa: E402
from domain.storage.database import create_database  # noqa: E402
from domain.storage.models import Customer, Reservation  # noqa: E402
from domain.rules.schedule import slots_for  # noqa: E402
from domain.system_agent.effects import EffectLimits
from domain.system_agent.batch import SystemAgentBatchService  # noqa: E402
from domain.system_agent.queries import SystemAgentQueryService  # noqa: E402
from mcp_server.http import build_mcp_http_app  # noqa: E402
from mcp_server.system_server import build_system_server  # noqa: E402

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # Tuesday 10:00 in Riyadh
FIRST_DAY = date(2026, 12, 2)
PER_SLOT = 5  # the agents' capacity
THRESHOLD = 20
ROUND_TRIPS = 400
RUNS = 5
Slot = tuple[date, str]


def wa_id(n: int) -> str:
    return f"96650{n:07d}"


def slot_places(config: ClinicConfig, start: date, count: int) -> tuple[list[Slot], date]:
    """`count` places (a slot repeated PER_SLOT times) from `start` on, and the first day left unused."""
    places: list[Slot] = []
    day = start
    while len(places) < count:
        places += [(day, slot) for slot in slots_for(config, day) for _ in range(PER_SLOT)]
        day += timedelta(days=1)
    return places[:count], day


def calendar(config: ClinicConfig, count: int) -> tuple[list[Slot], list[dict[str, Any]]]:
    """`count` bookings from tomorrow on (reservation n + 1 is customer n's), and the requests moving
    each one to a free place on a later day."""
    booked, free_from = slot_places(config, FIRST_DAY, count)
    targets, _ = slot_places(config, free_from + timedelta(days=7), count)
    moves = [{"reservation_id": n + 1, "new_date": d.isoformat(), "new_time": s} for n, (d, s) in enumerate(targets)]
    return booked, moves


async def seed(url: str, booked: list[Slot]) -> None:
    rows = [{"id": n + 1, "wa_id": wa_id(n), "date": d, "time_slot": s, "type": n % 2, "status": "active",
             "created_at": NOW, "updated_at": NOW} for n, (d, s) in enumerate(booked)]
    db = create_database(url)
    async with db.unit_of_work() as session:
        await session.execute(insert(Customer), [{"wa_id": r["wa_id"], "created_at": NOW} for r in rows])
        await session.execute(insert(Reservation), rows)
    await db.dispose()


def copy_of(source: Path, folder: Path, name: str) -> str:
    shutil.copy(source, folder / name)
    return f"sqlite+aiosqlite:///{folder / name}"


def system_server(services: Services, threshold: int = THRESHOLD) -> MCPServer:
    args = (services.db, services.config, services.clock, services.search)
    batch = SystemAgentBatchService(*args, limits=EffectLimits.uniform(threshold))
    return build_system_server(services, batch, SystemAgentQueryService(*args))


async def timed(work: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await work()
    return round((time.perf_counter() - started) * 1000, 1), result


async def tool_move_ms(url: str, config: ClinicConfig, requests: list[dict[str, Any]]) -> float:
    """One system_batch_modify call through an in-memory MCP client (confirmation threshold above the
    batch, so the one call applies: the confirmation round trip is the user's time, not the server's).
    The client is warmed first: its one-time imports are not the server's time."""
    services = build_services(config, create_database(url), lambda: NOW)
    async with Client(system_server(services, threshold=len(requests) + 1)) as client:
        await client.call_tool("get_current_datetime", {})
        ms, result = await timed(lambda: client.call_tool("system_batch_modify", {"requests": requests}))
    await services.db.dispose()
    assert result.structured_content["summary"]["ok"] == len(requests), result.structured_content["summary"]
    return ms


async def service_move_ms(url: str, config: ClinicConfig, requests: list[dict[str, Any]]) -> float:
    """The same batch straight on SystemAgentBatchService: what the MCP layer adds is the difference."""
    services = build_services(config, create_database(url), lambda: NOW)
    batch = SystemAgentBatchService(services.db, config, services.clock, services.search,
                                    limits=EffectLimits.uniform(len(requests) + 1))
    ms, _ = await timed(lambda: batch.modify(requests))
    await services.db.dispose()
    return ms


async def loop_move_ms(url: str, config: ClinicConfig, requests: list[dict[str, Any]]) -> float:
    """The same moves through the single-item service, one unit of work each."""
    services = build_services(config, create_database(url), lambda: NOW)

    async def move_all() -> None:
        for r in requests:
            await services.reservations.modify(reservation_id=r["reservation_id"], new_date=r["new_date"],
                                               new_time=r["new_time"])
    ms, _ = await timed(move_all)
    await services.db.dispose()
    return ms


Mover = Callable[[str, ClinicConfig, list[dict[str, Any]]], Awaitable[float]]


async def median_ms(mover: Mover, seeded: Path, config: ClinicConfig, requests: list[dict[str, Any]]) -> float:
    """Median of RUNS runs, each on a fresh copy of the seeded calendar."""
    runs = [await mover(copy_of(seeded, seeded.parent, f"run-{n}.db"), config, requests) for n in range(RUNS)]
    return statistics.median(runs)


async def move_figures(folder: Path, config: ClinicConfig, count: int, loop: bool) -> dict[str, Any]:
    seeded = folder / f"seed-{count}.db"
    upgrade(f"sqlite+aiosqlite:///{seeded}")
    booked, requests = calendar(config, count)
    await seed(f"sqlite+aiosqlite:///{seeded}", booked)
    tool_ms = await median_ms(tool_move_ms, seeded, config, requests)
    figures = {"reservations": count, "tool_ms": tool_ms,
               "service_ms": await median_ms(service_move_ms, seeded, config, requests)}
    if loop:
        loop_ms = await loop_move_ms(copy_of(seeded, folder, f"loop-{count}.db"), config, requests)
        figures |= {"loop_ms": loop_ms, "speedup": round(loop_ms / tool_ms, 1)}
    return figures


async def noop() -> str:
    """Does nothing (bench only)."""
    return "ok"


async def round_trip_figures(url: str, config: ClinicConfig) -> dict[str, Any]:
    """Median round trips over streamable HTTP on loopback: a small system_get_reservations vs a no-op,
    with the 2026-07-28 protocol (one POST per call) and with 2025-11-25 (a session, as Claude Desktop)."""
    services = build_services(config, create_database(url), lambda: NOW)
    server = system_server(services)
    server.add_tool(noop, name="noop")
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and without it
    # Nagle's algorithm meets delayed ACKs and every response waits 40 ms.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    web = uvicorn.Server(uvicorn.Config(build_mcp_http_app(server, auth_token=None), ws="none", log_level="warning"))
    serving = asyncio.create_task(web.serve([sock]))
    figures = {mode: await round_trips(f"http://127.0.0.1:{sock.getsockname()[1]}/mcp", mode)
               for mode in ("2026-07-28", "legacy")}
    web.should_exit = True
    await serving
    await services.db.dispose()
    return figures


async def round_trips(url: str, mode: str) -> dict[str, float]:
    async with Client(url, mode=mode) as client:
        small = {"wa_ids": [wa_id(0)], "include": ["reservations"]}
        query, baseline = await interleaved_medians(lambda: client.call_tool("system_get_reservations", small),
                                                    lambda: client.call_tool("noop", {}))
    return {"get_reservations_ms": query, "noop_ms": baseline, "ratio": round(query / baseline, 2)}


async def interleaved_medians(call: Callable[[], Awaitable[Any]], baseline: Callable[[], Awaitable[Any]]
                              ) -> tuple[float, float]:
    """Median times of `call` and `baseline`, taken in turns so that a busy moment of the machine
    weighs on both alike."""
    for _ in range(20):
        await call()
        await baseline()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(ROUND_TRIPS):
        for work, spent in ((call, times[0]), (baseline, times[1])):
            started = time.perf_counter()
            await work()
            spent.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times[0]), 2), round(statistics.median(times[1]), 2)


def day_after(days: int) -> str:
    return (FIRST_DAY + timedelta(days=days)).isoformat()


def wire_size(result: Any) -> int:
    dumped = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    return len(json.dumps(dumped, ensure_ascii=False, separators=(",", ":")).encode())


def answer_size(result: Any) -> dict[str, int]:
    """Bytes of the text content (what a model reads), of the structured content, and of the whole message."""
    text = "".join(getattr(block, "text", "") for block in result.content)
    structured = json.dumps(result.structured_content, ensure_ascii=False, separators=(",", ":"))
    return {"text_bytes": len(text.encode()), "structured_bytes": len(structured.encode()),
            "bytes": wire_size(result)}


async def size_figures(url: str, config: ClinicConfig, requests: list[dict[str, Any]]) -> dict[str, Any]:
    """Each tool's default answer (bytes) when 10,000 reservations are concerned, and tools/list."""
    services = build_services(config, create_database(url), lambda: NOW)
    first, last = FIRST_DAY.isoformat(), requests[-1]["new_date"]
    booked_last = (await services.reservations.customer_reservations(wa_id(len(requests) - 1)))[0].date
    new_customers = [{"wa_id": wa_id(len(requests) + n), "date": r["new_date"], "time_slot": r["new_time"]}
                     for n, r in enumerate(requests)]
    calls: list[tuple[str, dict[str, Any]]] = [
        ("get_current_datetime", {}),
        ("search_available_appointments", {"start_date": first}),
        ("system_get_reservations", {}),
        ("system_batch_reserve", {"requests": new_customers, "dry_run": True}),
        ("system_batch_modify", {"requests": requests, "dry_run": True}),
        ("system_batch_cancel", {"filters": {"start_date": first, "end_date": booked_last}}),
        ("system_get_wa_ids_by_date_range", {"start_date": first, "end_date": booked_last}),
        ("system_analyze_conversations", {"start_date": first, "end_date": day_after(365)}),
        ("system_get_reservation_snapshot", {"start_date": first, "end_date": day_after(91)}),
    ]
    sizes: dict[str, Any] = {}
    async with Client(system_server(services)) as client:
        for name, arguments in calls:
            result = await client.call_tool(name, arguments)
            sizes[name] = {**answer_size(result), "status": (result.structured_content or {}).get("status")}
        sizes["system_undo_batch"] = await undo_size(client, first, booked_last)
        sizes["system_get_reservations(max_results=25)"] = answer_size(
            await client.call_tool("system_get_reservations", {"max_results": 25}))
        listed = await client.list_tools()
    await services.db.dispose()
    tools_bytes = wire_size(listed)
    return {"answers": sizes, "tools_list": {"bytes": tools_bytes, "approx_tokens": tools_bytes // 4}, "last": last}


async def undo_size(client: Client, first: str, last: str) -> dict[str, Any]:
    """Cancel all 10,000 (confirmed with the token), then measure the undo's default answer."""
    arguments = {"filters": {"start_date": first, "end_date": last}}
    preview = await client.call_tool("system_batch_cancel", arguments)
    token = preview.structured_content["confirmation"]["token"]
    applied = await client.call_tool("system_batch_cancel", arguments | {"confirmation_token": token})
    undone = await client.call_tool("system_undo_batch", {"batch_id": applied.structured_content["batch_id"]})
    return {**answer_size(undone), "status": undone.structured_content["status"],
            "restored": undone.structured_content["summary"]["ok"]}


async def main(quick: bool) -> None:
    config = ClinicConfig()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        moves = [await move_figures(folder, config, count, loop=count == 1_000 or not quick)
                 for count in (1_000, 10_000)]
        round_trip = await round_trip_figures(copy_of(folder / "seed-1000.db", folder, "http.db"), config)
        requests = calendar(config, 10_000)[1]
        sizes = await size_figures(copy_of(folder / "seed-10000.db", folder, "sizes.db"), config, requests)
    sizes.pop("last")
    print(json.dumps({"bench": "mcp server", "database": "sqlite", "system_batch_modify_moves": moves,
                      "http_round_trip": round_trip, "answer_sizes_at_10000": sizes}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    asyncio.run(main(quick="--quick" in sys.argv[1:]))
