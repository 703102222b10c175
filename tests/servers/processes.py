"""Server processes of a test run: started on loopback, waited for, and always stopped with the run."""

from __future__ import annotations

import ctypes
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass(frozen=True)
class Account:
    """The system account a server runs as: PostgreSQL refuses to run as root."""

    uid: int
    gid: int


def server_account() -> Account | None:
    """`nobody` when this process is root (CI is), else None: the server runs as the current user."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam("nobody")
    return Account(entry.pw_uid, entry.pw_gid)


class AccountArguments(TypedDict):
    """The arguments of `subprocess` that choose whom a program runs as."""

    user: int | None
    group: int | None
    extra_groups: list[int] | None


def as_account(account: Account | None) -> AccountArguments:
    """Run a program as `account`, without root's other groups; as the current user when None."""
    if account is None:
        return {"user": None, "group": None, "extra_groups": None}
    return {"user": account.uid, "group": account.gid, "extra_groups": []}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def die_with_parent() -> Callable[[], None]:
    """A pre-exec step asking Linux to stop the server (SIGINT) when this process dies, even by SIGKILL, so no
    throwaway server outlives its run."""
    libc = ctypes.CDLL(None, use_errno=True)
    return lambda: libc.prctl(PR_SET_PDEATHSIG, signal.SIGINT)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT: a fast shutdown for PostgreSQL, a plain one for Redis; killed if it has not ended in 30 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running(command: Sequence[str | Path], log: Path, account: Account | None) -> Iterator[subprocess.Popen[bytes]]:
    """`command` running in a session of its own (a Ctrl-C meant for the tests does not stop it midway),
    its output in `log`; stopped when the block ends, however it ends."""
    with log.open("ab") as output:
        process = subprocess.Popen([str(part) for part in command], stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent(),
                                   env={**os.environ, "LC_ALL": "C"}, **as_account(account))
    try:
        yield process
    finally:
        stop(process)


def wait_until_answering(process: subprocess.Popen[bytes], refusal: Callable[[], str | None], log: Path) -> None:
    """Poll the new server until it answers; raise with its log when it ends or 60 s pass first."""
    deadline = time.monotonic() + 60
    while (reason := refusal()) is not None:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start ({reason}); its log:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)
