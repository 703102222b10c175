"""The log lines of `calendar-agent serve`, as whoever runs it reads them: one JSON object per line on stderr,
each naming its request and conversation; and the provider errors on `/metrics`."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from websockets.sync.client import connect

from chat_bridge.logs import QueryRedaction
from tests.calendar_agent.test_crash_recovery import AGENT, Serve, serve, wait_for  # noqa: F401 (fixture)
from tests.fakes.fixtures import anthropic_api, anthropic_server  # noqa: F401 (fixtures)
from tests.fakes.llm import Failure, Reply, ScriptedLLM


def lines(log: Path) -> list[dict[str, Any]]:
    """Every line of the service's stderr that is a log record (the CLI's own banner lines are text)."""
    records = []
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    return records


def test_every_log_line_is_json_with_the_request_id_the_caller_sent_or_a_fresh_one(
    serve: Serve,  # noqa: F811 (fixture)
) -> None:
    serve.start()

    sane = httpx2.get(f"{serve.url}/health", headers={"X-Request-ID": "desk-42.a"}, timeout=10)
    hostile = httpx2.get(f"{serve.url}/health", headers={"X-Request-ID": "x\" injected=1 " + "a" * 500}, timeout=10)
    none = httpx2.get(f"{serve.url}/health", timeout=10)

    assert sane.headers["x-request-id"] == "desk-42.a"
    made = {hostile.headers["x-request-id"], none.headers["x-request-id"]}
    assert len(made) == 2 and all(len(value) == 32 and int(value, 16) >= 0 for value in made)
    wait_for(lambda: sum(r.get("logger") == "uvicorn.access" for r in lines(serve.log)) >= 3)
    serve.stop()
    records = lines(serve.log)
    assert records and all({"asctime", "level", "logger", "message", "request_id", "conversation_id"} <= set(r)
                           for r in records)
    access = [r for r in records if r["logger"] == "uvicorn.access" and "/health" in r["message"]]
    assert [r["request_id"] for r in access] == ["desk-42.a", *(v for v in (hostile.headers["x-request-id"],
                                                                            none.headers["x-request-id"]))]
    assert all("injected" not in json.dumps(r) for r in records)


def test_a_turn_logs_its_conversation_and_job_and_a_provider_error_is_counted(
    serve: Serve, anthropic_api: ScriptedLLM  # noqa: F811 (fixture)
) -> None:
    anthropic_api.script(Failure(503), Reply("Sunday has 15 free places."))
    serve.start()

    for text in ("what is free on Sunday?", "and now?"):
        accepted = httpx2.post(f"{serve.url}/whatsapp/message", json={"wa_id": AGENT, "message": text}, timeout=10)
        assert accepted.status_code == 202
        wait_for(lambda: sum("turn of job" in r["message"] for r in lines(serve.log)) >= 1 + (text == "and now?"))

    metrics = httpx2.get(f"{serve.url}/metrics", timeout=10).text
    assert 'calendar_provider_errors_total{kind="unavailable",provider="anthropic"} 1.0' in metrics
    time.sleep(0.2)
    turns = [r for r in lines(serve.log) if "turn of job" in r["message"]]
    assert [(r["conversation_id"], r["request_id"]) for r in turns] == [(AGENT, "job-1"), (AGENT, "job-2")]
    [failure] = [r for r in lines(serve.log) if r["level"] == "WARNING" and "could not answer" in r["message"]]
    assert (failure["conversation_id"], failure["request_id"]) == (AGENT, "job-1")
    assert "HTTP 503" in failure["message"]


def test_no_log_line_carries_a_token_passed_in_a_query_string(
    serve: Serve,  # noqa: F811 (fixture)
) -> None:
    secret, verify = "operator-secret-4242", "verify-secret-4343"
    serve.env |= {"OPERATOR_TOKEN": secret, "WHATSAPP_VERIFY_TOKEN": verify}
    serve.start()

    with connect(f"ws{serve.url.removeprefix('http')}/ws?token={secret}") as sidebar:
        sidebar.ping().wait(10)
    refused = httpx2.get(f"{serve.url}/customers/names", params={"token": secret}, timeout=10)
    verified = httpx2.get(f"{serve.url}/webhook", params={"hub.mode": "subscribe", "hub.verify_token": verify,
                                                          "hub.challenge": "42"}, timeout=10)
    assert (refused.status_code, verified.text) == (401, "42")
    wait_for(lambda: sum("/webhook" in r["message"] for r in lines(serve.log)) >= 1)
    serve.stop()

    log = serve.log.read_text(encoding="utf-8")
    assert secret not in log and verify not in log
    messages = [r["message"] for r in lines(serve.log)]
    assert any('"WebSocket /ws?token=[redacted]" [accepted]' in m for m in messages), messages
    assert any('"GET /customers/names?token=[redacted] HTTP/1.1" 401' in m for m in messages)
    assert any("/webhook?hub.mode=[redacted]&hub.verify_token=[redacted]&hub.challenge=[redacted]" in m
               for m in messages)


@pytest.mark.parametrize(("logged", "args", "shown"), [
    ('%s - "WebSocket %s" [accepted]', ("127.0.0.1:5", '/ws?token=a"b c'),
     '127.0.0.1:5 - "WebSocket /ws?token=[redacted]" [accepted]'),
    ("HTTP Request: %s %s", ("GET", "https://graph.example/v1/x?access_token=zz&a=1"),
     "HTTP Request: GET https://graph.example/v1/x?access_token=[redacted]&a=[redacted]"),
    ("what is free on Sunday?", (), "what is free on Sunday?"),
])
def test_a_query_string_is_logged_with_its_names_only(logged: str, args: tuple[str, ...], shown: str) -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, logged, args, None)
    QueryRedaction().filter(record)
    assert record.getMessage() == shown
