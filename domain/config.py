"""The clinic's configuration as the domain sees it: a frozen value, never read from the environment."""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator


class BookingSource(StrEnum):
    """Who is booking: the capacity per slot depends on it."""

    AGENT = "agent"
    OPERATOR = "operator"


class OpeningHours(BaseModel):
    """The hours of one day: slots start at `opens` and step by the slot length while before `closes`."""

    model_config = ConfigDict(frozen=True)

    opens: time
    closes: time


class ReservationType(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    name_ar: str = ""


WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _default_week() -> dict[str, OpeningHours | None]:
    regular = OpeningHours(opens=time(11), closes=time(17))
    return {
        "sunday": regular,
        "monday": regular,
        "tuesday": regular,
        "wednesday": regular,
        "thursday": regular,
        "friday": None,
        "saturday": OpeningHours(opens=time(16), closes=time(22)),
    }


def _default_types() -> tuple[ReservationType, ...]:
    return (
        ReservationType(id=0, name="Check-up", name_ar="كشف"),
        ReservationType(id=1, name="Follow-up", name_ar="مراجعة"),
    )


class ClinicConfig(BaseModel):
    """Hours, slot length, capacities, types and timezone: the defaults of domain-rules.md."""

    model_config = ConfigDict(frozen=True)

    timezone: str = "Asia/Riyadh"
    week: dict[str, OpeningHours | None] = Field(default_factory=_default_week)
    slot_minutes: int = Field(default=120, gt=0, le=24 * 60)
    ramadan_hours: OpeningHours | None = OpeningHours(opens=time(10), closes=time(16))
    capacity: dict[BookingSource, int] = Field(
        default_factory=lambda: {BookingSource.AGENT: 5, BookingSource.OPERATOR: 6}
    )
    type_capacity: dict[int, int] = Field(default_factory=dict)
    reservation_types: tuple[ReservationType, ...] = Field(default_factory=_default_types)
    history_limit: int = Field(default=30, gt=0)
    system_agent_wa_id: str = "12125550123"
    system_agent_name: str = "Calendar AI Assistant"
    # A cancellation this many hours or less before the slot starts is late (0: never late).
    late_cancel_hours: float = Field(default=24, ge=0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @field_validator("week")
    @classmethod
    def _all_weekdays(cls, value: dict[str, OpeningHours | None]) -> dict[str, OpeningHours | None]:
        unknown = set(value) - set(WEEKDAY_NAMES)
        if unknown:
            raise ValueError(f"unknown weekday(s): {', '.join(sorted(unknown))}")
        return {day: value.get(day) for day in WEEKDAY_NAMES}

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def type_ids(self) -> set[int]:
        return {t.id for t in self.reservation_types}

    def type_name(self, type_id: int) -> str:
        return next((t.name for t in self.reservation_types if t.id == type_id), str(type_id))
