"""`python -m tests.servers COMMAND...`: run COMMAND (the pytest run) with DATABASE_URL_POSTGRES and REDIS_URL_TEST
naming servers that answer; throwaway ones are started for those that do not, and stopped when COMMAND ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from types import FrameType

from tests.servers import postgres_server, redis_server


def say(line: str) -> None:
    """One line for the person running the tests, on stderr beside the scripts' own."""
    print(f"test: {line}", file=sys.stderr, flush=True)


def throwaway(stack: ExitStack, what: str, url: str, server: Callable[[], AbstractContextManager[str]]) -> str:
    """A throwaway server's URL; `url` again when none could start (the tests then say why they cannot run)."""
    try:
        started = stack.enter_context(server())
    except Exception as error:  # noqa: BLE001 - reported, and the tests report the missing server too
        say(f"could not start a throwaway {what}: {error}")
        return url
    say(f"{what}: a throwaway server at {started}, stopped after the run")
    return started


def postgres_url(stack: ExitStack) -> str:
    """DATABASE_URL_POSTGRES when it answers (in CI the machine's cluster is started first), else a throwaway's."""
    url = os.environ.get("DATABASE_URL_POSTGRES") or postgres_server.DEFAULT_URL
    if (reason := postgres_server.refusal(url)) is None:
        return url
    machine_cluster = os.environ.get("CI") == "true" and url == postgres_server.DEFAULT_URL
    if machine_cluster and postgres_server.start_system_cluster(url):
        return url
    say(f"PostgreSQL at {url} does not answer ({reason})")
    return throwaway(stack, "PostgreSQL", url, postgres_server.throwaway_postgres)


def redis_url(stack: ExitStack) -> str:
    """REDIS_URL_TEST when it answers, else a throwaway server's."""
    url = os.environ.get("REDIS_URL_TEST") or redis_server.DEFAULT_URL
    if (reason := redis_server.refusal(url)) is None:
        return url
    say(f"Redis at {url} does not answer ({reason})")
    return throwaway(stack, "Redis", url, redis_server.throwaway_redis)


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM while the servers start: unwind, so that each one started is stopped and its folder deleted."""
    raise SystemExit(128 + signum)


def run(command: Sequence[str], environment: dict[str, str]) -> int:
    """COMMAND's exit code. A Ctrl-C reaches COMMAND too (one process group) and pytest ends cleanly on it, so
    this process waits for that; a SIGTERM reaches this process only, so it is passed on."""
    child = subprocess.Popen(command, env=environment)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signum))
    code = child.wait()
    return code if code >= 0 else 128 - code


def main(command: Sequence[str]) -> int:
    """Run `command` between the start and the stop of the servers it needs; its exit code."""
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    with ExitStack() as stack:
        environment = {**os.environ, "DATABASE_URL_POSTGRES": postgres_url(stack), "REDIS_URL_TEST": redis_url(stack)}
        return run(command, environment)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m tests.servers COMMAND [ARGUMENT...]")
    sys.exit(main(sys.argv[1:]))
