"""1,000 notices queued by one batch and sent at the configured rate, through the service as `calendar-agent serve`
builds it (the bridge on loopback, the system tools at /mcp, the outbox's sender) against the fake Graph API,
whose delivery statuses come back through the signed webhook. Prints JSON.

Queue time: the confirmed `system_batch_cancel` of a whole day with `notify` against the
same call without it, on equal fresh databases. Send rate: notices sent per second between the first and the
last. Duplicates: messages WhatsApp received beyond one per customer (target 0).

    .venv/bin/python bench/notices_bench.py --count 1000 --rate 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mcp import Client  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from calendar_agent.migrate import upgrade  # noqa: E402
from domain.config import BookingSource, ClinicConfig  # noqa: E402
from domain.storage.database import create_database  # noqa: E402
from domain.storage.models import Customer, Notice, Reservation  # noqa: E402
from domain.notices.templates import NoticeConfig  # noqa: E402
from domain.services import build_services  # noqa: E402
from tests.fakes.graph_api import FakeGraphApi, running_bridge  # noqa: E402
from tests.fakes.loopback import serve_on_loopback  # noqa: E402

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # Tuesday 10:00 in Riyadh
DAY = date(2026, 12, 6)
SLOTS = ("11:00", "13:00", "15:00")


class Clock:
    """The bench's fixed start, moving with real time (backoffs come due)."""

    def __init__(self) -> None:
        self.began = time.monotonic()

    def __call__(self) -> datetime:
        from datetime import timedelta
        return NOW + timedelta(seconds=time.monotonic() - self.began)


async def seed(url: str, count: int) -> None:
    upgrade(url)
    db = create_database(url)
    async with db.unit_of_work() as session:
        await session.execute(insert(Customer), [{"wa_id": f"9665{n:08d}", "name": f"Customer {n}", "created_at": NOW}
                                                 for n in range(count)])
        await session.execute(insert(Reservation), [
            {"wa_id": f"9665{n:08d}", "date": DAY, "time_slot": SLOTS[n % 3], "type": 0, "status": "active",
             "created_at": NOW, "updated_at": NOW} for n in range(count)])
    await db.dispose()


async def cancel_day(url: str, notify: bool) -> tuple[float, dict[str, Any]]:
    """The confirmed call's seconds and its structured answer."""
    arguments: dict[str, Any] = {"filters": {"dates": [DAY.isoformat()]}, **({"notify": True} if notify else {})}
    async with Client(f"{url}/mcp") as client:
        asked = (await client.call_tool("system_batch_cancel", arguments)).structured_content or {}
        token = asked["confirmation"]["token"]
        started = time.perf_counter()
        applied = await client.call_tool("system_batch_cancel", dict(arguments, confirmation_token=token))
        seconds = time.perf_counter() - started
    return seconds, applied.structured_content or {}


async def run(count: int, rate: float, notify: bool, folder: Path) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{folder / ('notify.db' if notify else 'plain.db')}"
    await seed(url, count)
    db = create_database(url)
    config = ClinicConfig().model_copy(update={"capacity": {BookingSource.AGENT: 10**6, BookingSource.OPERATOR: 10**6}})
    services = build_services(config, db, Clock(), notices=NoticeConfig(rate_per_second=rate, reminder_time=None))
    graph = FakeGraphApi()
    graph.approve_defaults()
    try:
        async with serve_on_loopback(graph.app()) as graph_url:
            graph.base_url = graph_url
            async with running_bridge(services, graph) as bridge:
                graph.webhook_url = f"{bridge.url}/webhook"
                seconds, answer = await cancel_day(bridge.url, notify)
                queued_at = time.perf_counter()
                result: dict[str, Any] = {"batch_seconds": round(seconds, 3), "ok": answer["summary"]["ok"]}
                if not notify:
                    return result
                await graph.wait_for_sends(count, timeout=count / rate * 4 + 30)
                sent_at = time.perf_counter()
                await graph.wait_for_posted(2 * count, timeout=120)
                delivered_at = time.perf_counter()
                await graph.close()
        async with db.reading() as session:
            states = dict((await session.execute(select(Notice.status, func.count()).group_by(Notice.status))).all())
    finally:
        await db.dispose()
    per_customer = Counter(m.to for m in graph.sent)
    result |= {"queued": answer["notices"]["queued"], "configured_rate": rate,
               "send_seconds": round(sent_at - queued_at, 2),
               "send_rate_per_second": round(count / (sent_at - queued_at), 1),
               "all_delivered_seconds": round(delivered_at - queued_at, 2),
               "messages_received": len(graph.sent), "customers_messaged": len(per_customer),
               "duplicates": len(graph.sent) - len(per_customer), "notice_states": states}
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        plain = await run(args.count, args.rate, False, Path(folder))
        notified = await run(args.count, args.rate, True, Path(folder))
    notified["queue_seconds"] = round(notified["batch_seconds"] - plain["batch_seconds"], 3)
    print(json.dumps({"count": args.count, "without_notify": plain, "with_notify": notified}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
