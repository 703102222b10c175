"""The clock the services read (tests pass their own), and how an instant is written for the clinic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from domain.config import ClinicConfig

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, aware, in UTC: what the services read unless a test passes its own clock."""
    return datetime.now(UTC)


def local_iso(config: ClinicConfig, moment: datetime | None) -> str | None:
    """An aware instant in the clinic's zone, ISO 8601 to the second with its offset: every timestamp an answer,
    a record or the console shows is written this way."""
    return None if moment is None else moment.astimezone(config.zone).isoformat(timespec="seconds")
