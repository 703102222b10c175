"""One `calendar-agent serve` against two on one PostgreSQL database behind a round-robin balancer, with a fake
model (an instant echo over the real Anthropic wire format) and a fake Graph API. Prints JSON.

20 conversations (the operators' and 19 customers' over signed webhook deliveries), each sending its next
message once the previous one is answered, `--messages` in all: messages per second, p50/p95 from sending a
message to its answer being listed, and the work queue's oldest open job as `/metrics` showed it under load.

    DATABASE_URL_POSTGRES=postgresql+asyncpg://postgres@127.0.0.1:5432/test .venv/bin/python bench/instances_bench.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # noqa: E402
import httpx2  # noqa: E402

from calendar_agent.migrate import upgrade  # noqa: E402
from tests.calendar_agent.test_crash_recovery import AGENT  # noqa: E402
from tests.calendar_agent.test_two_instances import CUSTOMERS, echo, start_instances  # noqa: E402
from tests.fakes.graph_api import APP_SECRET, FakeGraphApi, inbound, signed  # noqa: E402
from tests.fakes.llm import FakeAnthropic, Respond  # noqa: E402
from tests.fakes.loopback import serve_in_thread  # noqa: E402
from tests.fakes.proxy import RoundRobinProxy  # noqa: E402


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def converse(url: str, wa_id: str, count: int, latencies: list[float], stop: threading.Event) -> None:
    with httpx2.Client(base_url=url, timeout=30) as client:
        for n in range(count):
            said = f"{wa_id} says {n}"
            started = time.perf_counter()
            if wa_id == AGENT:
                assert client.post("/whatsapp/message", json={"wa_id": AGENT, "message": said}).status_code == 202
            else:
                body, headers = signed(inbound(wa_id, f"wamid.{wa_id}.{n}", text=said), APP_SECRET)
                assert client.post("/webhook", content=body, headers=headers).status_code == 200
            while not stop.is_set():
                rows = client.get(f"/conversations/{wa_id}", params={"limit": 500}).json()["messages"]
                if any(m["text"] == f"re: {said}" for m in rows):
                    break
                time.sleep(0.02)
            latencies.append(time.perf_counter() - started)


def queue_age(url: str, stop: threading.Event, ages: list[float]) -> None:
    with httpx2.Client(base_url=url, timeout=10) as client:
        while not stop.wait(0.2):
            for line in client.get("/metrics").text.splitlines():
                if line.startswith("calendar_queue_oldest_job_seconds "):
                    ages.append(float(line.split()[1]))


def run(instances: int, messages: int, database: str, llm: FakeAnthropic, graph: FakeGraphApi) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        started_services = start_instances(Path(folder), instances, llm, database, graph, LOG_LEVEL="WARNING")
        balancer = RoundRobinProxy([s.port for s in started_services])
        try:
            with balancer.running() as url:
                latencies: list[float] = []
                ages: list[float] = []
                stop = threading.Event()
                watcher = threading.Thread(target=queue_age, args=(url, stop, ages), daemon=True)
                watcher.start()
                per = messages // 20
                began = time.perf_counter()
                with ThreadPoolExecutor(max_workers=20) as pool:
                    for done in [pool.submit(converse, url, w, per, latencies, stop) for w in [AGENT, *CUSTOMERS]]:
                        done.result()
                elapsed = time.perf_counter() - began
                stop.set()
                watcher.join(5)
        finally:
            for serve in started_services:
                serve.stop()
    ordered = sorted(latencies)
    return {"instances": instances, "messages": len(latencies), "seconds": round(elapsed, 2),
            "messages_per_second": round(len(latencies) / elapsed, 1),
            "answer_p50_ms": round(statistics.median(ordered) * 1000, 1),
            "answer_p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1),
            "queue_oldest_job_max_s": round(max(ages, default=0.0), 2),
            "connections_per_instance": balancer.connections}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400)
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    llm, graph = FakeAnthropic(), FakeGraphApi()
    llm.script(*[Respond(echo)] * (args.messages * 3))
    results = []
    with serve_in_thread(llm.app) as llm_url, serve_in_thread(graph.app()) as graph_url:
        llm.url, graph.base_url = llm_url, graph_url
        for instances in (1, 2):
            name = f"calendar_bench_{uuid.uuid4().hex[:8]}"
            asyncio.run(_admin(server, f"CREATE DATABASE {name}"))
            database = server.rsplit("/", 1)[0] + "/" + name
            try:
                upgrade(database)
                results.append(run(instances, args.messages, database, llm, graph))
            finally:
                asyncio.run(_admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
