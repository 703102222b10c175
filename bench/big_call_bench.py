"""How long one large call holds the rest of `calendar-agent serve`: `/health` polled without pause while the call
is handled, the service in a process of its own on an embedded SQLite. Each case runs `--runs` times (5); the
figures are the medians over the runs of each run's slowest `/health` and of the call's own time. Prints JSON.

1. `/health` alone (the baseline): latency p50 and the slowest of the polls.
2. The hostile call of issue 26: one 800 KB `tools/call` of `system_batch_cancel` with 200,000 empty items. It is
   refused; the slowest `/health` answered meanwhile is how long the loop was held.
3. A legitimate 10,000-item cancel by reservation id (a dry run over an empty calendar: every item fails as not
   found), about 250 KB, decoded twice (off the loop, then by the SDK on it), validated and planned.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parents[1]
MODERN = "2026-07-28"
HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call",
           "Mcp-Name": "system_batch_cancel", "Content-Type": "application/json"}


def cancel_call(arguments: dict[str, Any]) -> bytes:
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "system_batch_cancel", "arguments": arguments, "_meta": meta}}).encode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_service(folder: Path, port: int) -> subprocess.Popen[bytes]:
    env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": f"sqlite+aiosqlite:///{folder}/calendar.db",
           "LOG_LEVEL": "WARNING", "REMINDER_TIME": ""}
    command = [sys.executable, "-m", "calendar_agent.cli"]
    subprocess.run([*command, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    return subprocess.Popen([*command, "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def ready(http: httpx2.AsyncClient) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if (await http.get("/ready")).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the service did not become ready")


async def health_during(http: httpx2.AsyncClient, call: bytes | None, polls: int = 200) -> dict[str, Any]:
    """`/health` latencies while `call` is handled (or for `polls` polls when there is none), in ms."""
    latencies: list[float] = []
    done = asyncio.Event()

    async def poll() -> None:
        while not done.is_set() and (call is not None or len(latencies) < polls):
            start = time.perf_counter()
            await http.get("/health")
            latencies.append((time.perf_counter() - start) * 1000)

    poller = asyncio.create_task(poll())
    await asyncio.sleep(0.05)  # the poller is under way before the call goes out
    result: dict[str, Any] = {}
    if call is not None:
        start = time.perf_counter()
        answer = await http.post("/mcp", content=call, headers=HEADERS)
        result = {"call_ms": round((time.perf_counter() - start) * 1000, 1), "status": answer.status_code,
                  "body_kb": round(len(call) / 1000)}
        done.set()
    await poller
    return result | {"health_polls": len(latencies), "health_p50_ms": round(statistics.median(latencies), 2),
                     "health_max_ms": round(max(latencies), 1)}


async def median_of(runs: int, http: httpx2.AsyncClient, call: bytes | None) -> dict[str, Any]:
    """The medians over `runs` runs of `health_during`."""
    results = [await health_during(http, call) for _ in range(runs)]
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


async def main(runs: int) -> None:
    port = free_port()
    hostile = cancel_call({"requests": [{}] * 200_000})
    legitimate = cancel_call({"requests": [{"reservation_id": n} for n in range(1, 10_001)], "dry_run": True})
    with tempfile.TemporaryDirectory() as folder:
        service = start_service(Path(folder), port)
        try:
            async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
                await ready(http)
                report = {"runs": runs, "health_alone": await median_of(runs, http, None),
                          "hostile_200000_empty_items": await median_of(runs, http, hostile),
                          "legitimate_10000_items_dry_run": await median_of(runs, http, legitimate)}
        finally:
            service.terminate()
            service.wait(30)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
