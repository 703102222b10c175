"""The throwaway servers of a test run answer while the run lasts and are gone after it, however it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tests.servers import postgres_server, redis_server
from tests.servers.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
# The command the wrapper runs in these tests: it says which servers it was given, then waits to be ended.
REPORT_AND_WAIT = "import os, time; print(os.getpid(), os.environ['DATABASE_URL_POSTGRES'], " \
                  "os.environ['REDIS_URL_TEST'], flush=True); time.sleep(600)"


def refused_within(refusal: Callable[[], str | None], seconds: float = 30) -> bool:
    """Whether the server stops answering before the deadline (a shutdown takes a moment)."""
    deadline = time.monotonic() + seconds
    while refusal() is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_a_throwaway_postgres_answers_in_its_block_and_is_gone_after_it() -> None:
    with postgres_server.throwaway_postgres() as url:
        answered = postgres_server.refusal(url)
    assert answered is None
    assert postgres_server.refusal(url) is not None


def test_without_redis_server_on_the_path_the_wheels_valkey_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with redis_server.throwaway_redis() as url:
        answered = redis_server.refusal(url)
    assert redis_server.server_program() == redis_server.wheel_server()
    assert answered is None
    assert redis_server.refusal(url) is not None


@contextmanager
def run_without_servers() -> Iterator[tuple[subprocess.Popen[str], str, str]]:
    """`python -m tests.servers` with both configured servers on closed ports: the run and the URLs it was given.
    Its servers' folders go in a folder of the test's own, deleted even when the run was killed."""
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)  # the server may run as `nobody`
        environment = {**os.environ, "TMPDIR": folder, "CI": "false",
                       "DATABASE_URL_POSTGRES": f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/x",
                       "REDIS_URL_TEST": f"redis://127.0.0.1:{free_port()}/0"}
        run = subprocess.Popen([sys.executable, "-m", "tests.servers", sys.executable, "-c", REPORT_AND_WAIT],
                               cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert run.stdout is not None
        pid, postgres_url, redis_url = run.stdout.readline().split()
        try:
            yield run, postgres_url, redis_url
        finally:
            run.kill()
            run.wait()
            run.stdout.close()
            with suppress(ProcessLookupError):  # the command outlives a killed run
                os.kill(int(pid), signal.SIGKILL)


def test_the_run_is_given_throwaway_servers_that_stop_when_it_is_terminated() -> None:
    with run_without_servers() as (run, postgres_url, redis_url):
        answered = postgres_server.refusal(postgres_url), redis_server.refusal(redis_url)
        run.send_signal(signal.SIGTERM)
        code = run.wait(timeout=60)
    assert answered == (None, None)
    assert code == 128 + signal.SIGTERM
    assert postgres_server.refusal(postgres_url) is not None and redis_server.refusal(redis_url) is not None


def test_the_throwaway_servers_stop_even_when_the_run_is_killed() -> None:
    with run_without_servers() as (run, postgres_url, redis_url):
        run.kill()
        run.wait()
        stopped = (refused_within(lambda: postgres_server.refusal(postgres_url)),
                   refused_within(lambda: redis_server.refusal(redis_url)))
    assert stopped == (True, True)
