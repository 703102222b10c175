"""The chat bridge under load: uvicorn on loopback in its own process, an embedded SQLite. Prints JSON.

1. Operator messages to the system agent from 50 concurrent senders (each sends its next message as
   soon as the previous one is accepted): time until the 202, p50/p95, and the rate sustained.
2. 20 customers who each write one line and wait for the answer: time from the webhook's 200 (and from the post)
   to the stored answer, p50/p95.
3. 200 customer messages over 20 conversations (signed webhook deliveries, each conversation's in
   sequence, all conversations at once): messages lost, answered twice and order violations, as the agent
   turns saw them, how many turns answered them, and the time until every one was answered.
Everything runs twice in one run: customers' turns starting at once (`CUSTOMER_QUIET_SECONDS=0`, the
baseline) and with the shipped quiet period, so the latency the quiet period adds is measured against it.
The agent turns are an instant fake that answers what is open, as the real turn does (`turn_context`), and
stores a reply that records what it answered.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2  # noqa: E402
import uvicorn  # noqa: E402

from calendar_agent.migrate import upgrade  # noqa: E402
from calendar_agent.settings import load_settings  # noqa: E402
from calendar_agent.bootstrap.serve import build_service_app  # noqa: E402
from chat_bridge.events import new_message_event  # noqa: E402
from chat_bridge.ports import AgentTurn  # noqa: E402
from chat_bridge.queue import AgentKind  # noqa: E402
from chat_bridge.state import BridgeContext  # noqa: E402
from domain.calendar.conversations import Audience  # noqa: E402
from domain.storage.database import create_database  # noqa: E402
from domain.storage.models import Base  # noqa: E402
from domain.calendar.demo import is_empty  # noqa: E402

APP_SECRET = "bench-secret"
AGENT = "12125550123"


class RecordingAgents:
    """Instant agent turns: each answers the open prompts, records them in order, stores a reply naming them."""

    def __init__(self) -> None:
        self.seen: dict[str, list[str]] = defaultdict(list)
        self.turns = 0

    def turn_for(self, kind: AgentKind, context: BridgeContext) -> AgentTurn:
        audience: Audience = "system" if kind is AgentKind.SYSTEM else "customer"

        async def turn(wa_id: str) -> None:
            conversations = context.services.conversations
            answers = (await conversations.turn_context(wa_id, audience)).open_ids
            if not answers:
                return
            # The open prompts are the conversation's newest messages (the turns store only replies).
            texts = {m.id: m.text for m in await conversations.page(wa_id, limit=len(answers) + 5)}
            reply = await conversations.reply(wa_id, "assistant", f"noted {len(answers)}", answers)
            if reply is None:
                return
            self.turns += 1
            self.seen[wa_id] += [texts[i] for i in answers if i in texts]
            await context.events.publish(new_message_event(reply))
        return turn


def serve_bridge(database_url: str, quiet: float, channel: Connection) -> None:
    """The child process: the bridge on a free loopback port until told to stop, then what the agents saw."""
    agents = RecordingAgents()
    settings = load_settings(None, database_url=database_url, whatsapp_app_secret=APP_SECRET,
                             customer_quiet_seconds=quiet)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(2048)  # connections wait in the backlog until uvicorn has started
    channel.send(listener.getsockname()[1])
    app = build_service_app(settings, agents=agents.turn_for)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    asyncio.run(serve_until_told(server, listener, channel))
    channel.send((dict(agents.seen), agents.turns))  # after the lifespan drained every queued turn


async def serve_until_told(server: uvicorn.Server, listener: socket.socket, channel: Connection) -> None:
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    await asyncio.get_running_loop().run_in_executor(None, channel.recv)
    server.should_exit = True  # a graceful shutdown: the lifespan drains the queue
    await serving


async def latencies(url: str, senders: int, per_sender: int, operator: bool) -> dict[str, float]:
    """Each sender sends its next request when the last is answered: p50/p95/max ms and requests per second.

    `operator`: messages to the system agent (202); else `GET /health`, the HTTP stack's own baseline."""
    limits = httpx2.Limits(max_connections=senders, max_keepalive_connections=senders)
    async with httpx2.AsyncClient(base_url=url, limits=limits, timeout=60) as http:
        async def sender(n: int) -> list[float]:
            timings = []
            for m in range(per_sender):
                started = time.perf_counter()
                if operator:
                    response = await http.post("/whatsapp/message", json={"wa_id": AGENT, "message": f"s{n} m{m}"})
                else:
                    response = await http.get("/health")
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == (202 if operator else 200), response.text
            return timings
        started = time.perf_counter()
        results = await asyncio.gather(*(sender(n) for n in range(senders)))
        rate = senders * per_sender / (time.perf_counter() - started)
    return summary([t for timings in results for t in timings], rate)


def summary(timings: list[float], rate: float) -> dict[str, float]:
    return {"requests": len(timings), "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(statistics.quantiles(timings, n=100)[94], 1), "max_ms": round(max(timings), 1),
            "per_second": round(rate, 1)}


def signed_delivery(wa_id: str, message_id: str, text: str) -> tuple[bytes, dict[str, str]]:
    message = {"from": wa_id, "id": message_id, "timestamp": "0", "type": "text", "text": {"body": text}}
    value = {"messaging_product": "whatsapp", "contacts": [{"profile": {"name": wa_id}, "wa_id": wa_id}],
             "messages": [message]}
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": value}]}]}).encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}


async def customer_conversations(url: str, conversations: int, per_conversation: int) -> dict[str, list[str]]:
    """Post every conversation's messages in sequence, all conversations at once; what each one sent."""
    sent = {f"9665012{n:05d}": [f"c{n} #{m}" for m in range(per_conversation)] for n in range(conversations)}
    async with httpx2.AsyncClient(base_url=url, timeout=60) as http:
        async def converse(wa_id: str) -> None:
            for m, text in enumerate(sent[wa_id]):
                body, headers = signed_delivery(wa_id, f"wamid.{wa_id}.{m}", text)
                assert (await http.post("/webhook", content=body, headers=headers)).status_code == 200
        await asyncio.gather(*(converse(wa_id) for wa_id in sent))
    return sent


async def first_answers(url: str, customers: int) -> dict[str, Any]:
    """Each of `customers` new customers writes one line and waits for the stored answer (polling the conversation
    every 10 ms): ms from the webhook's 200, and from the moment the delivery was posted."""
    async with httpx2.AsyncClient(base_url=url, timeout=60) as http:
        async def ask(n: int) -> tuple[float, float]:
            wa_id = f"9665019{n:05d}"
            body, headers = signed_delivery(wa_id, f"wamid.first.{wa_id}", "hello")
            posted = time.perf_counter()
            assert (await http.post("/webhook", content=body, headers=headers)).status_code == 200
            accepted = time.perf_counter()
            while not any(m["role"] == "assistant" for m in (await http.get(f"/conversations/{wa_id}")).json()[
                    "messages"]):
                await asyncio.sleep(0.01)
            answered = time.perf_counter()
            return (answered - accepted) * 1000, (answered - posted) * 1000
        started = time.perf_counter()
        timings = await asyncio.gather(*(ask(n) for n in range(customers)))
        rate = customers / (time.perf_counter() - started)
        return {**summary([after for after, _ in timings], rate),
                "from_post": summary([whole for _, whole in timings], rate)}


def order_violations(sent: list[str], seen: list[str]) -> int:
    """Messages seen before one that was sent earlier."""
    position = {text: n for n, text in enumerate(sent)}
    order = [position[text] for text in seen if text in position]
    return sum(1 for a, b in zip(order, order[1:], strict=False) if b < a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--per-sender", type=int, default=10)
    parser.add_argument("--quiet", type=float, default=load_settings(None).customer_quiet_seconds,
                        help="the customers' quiet period measured against none (default: the shipped one)")
    parser.add_argument("--database-url", default="", help="an empty scratch database (default: a new SQLite file)")
    args = parser.parse_args()
    if args.database_url:
        upgrade(args.database_url)
    if args.database_url and not asyncio.run(has_no_customers(args.database_url)):
        raise SystemExit(f"bridge_bench: {args.database_url} is not empty; give it an empty scratch database")
    runs = {}
    for quiet in (0.0, args.quiet):
        runs[f"quiet_{quiet:g}s"] = run(args, quiet)
        if args.database_url:
            asyncio.run(empty(args.database_url))  # found empty above: what is in it now is this run's
    print(json.dumps({"bench": "chat bridge", "database": args.database_url.split(":", 1)[0] or "sqlite",
                      "server": "uvicorn on 127.0.0.1, its own process", "senders": args.senders, **runs}))


def run(args: argparse.Namespace, quiet: float) -> dict[str, Any]:
    """One bridge process with the customers' quiet period `quiet`, through the three phases."""
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        upgrade(url)
        channel, child_channel = multiprocessing.Pipe()
        bridge = multiprocessing.get_context("spawn").Process(target=serve_bridge, args=(url, quiet, child_channel))
        bridge.start()
        child_channel.close()
        base_url = f"http://127.0.0.1:{channel.recv()}"
        baseline = asyncio.run(latencies(base_url, args.senders, args.per_sender, operator=False))
        accepted = asyncio.run(latencies(base_url, args.senders, args.per_sender, operator=True))
        first = asyncio.run(first_answers(base_url, 20))
        started = time.perf_counter()
        sent = asyncio.run(customer_conversations(base_url, 20, 10))
        channel.send("stop")
        seen, turns = channel.recv()
        answered_s = time.perf_counter() - started
        bridge.join()
    return report(baseline, accepted, sent, seen, turns, first, answered_s)


async def empty(url: str) -> None:
    """Delete every row the last run stored."""
    db = create_database(url)
    try:
        async with db.unit_of_work() as session:
            for table in reversed(Base.metadata.sorted_tables):
                await session.execute(table.delete())
    finally:
        await db.dispose()


async def has_no_customers(url: str) -> bool:
    db = create_database(url)
    try:
        return await is_empty(db)
    finally:
        await db.dispose()


def report(baseline: dict[str, float], accepted: dict[str, float], sent: dict[str, list[str]],
           seen: dict[str, list[str]], turns: int, first: dict[str, Any], answered_s: float) -> dict[str, Any]:
    total = sum(len(texts) for texts in sent.values())
    received = sum(len(set(seen.get(wa_id, [])) & set(texts)) for wa_id, texts in sent.items())
    twice = sum(len(seen.get(wa_id, [])) - len(set(seen.get(wa_id, []))) for wa_id in sent)
    violations = sum(order_violations(texts, seen.get(wa_id, [])) for wa_id, texts in sent.items())
    return {
        "operator_message_202": accepted, "health_baseline": baseline,
        "customer_messages": {"messages": total, "conversations": len(sent), "lost": total - received,
                              "answered_twice": twice, "order_violations": violations, "turns": turns,
                              "all_answered_s": round(answered_s, 2)},
        "first_answer_after_200": first,
    }


if __name__ == "__main__":
    main()
