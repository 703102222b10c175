"""Pure capacity rules: how many active reservations a slot may hold for a given booking."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.config import BookingSource, ClinicConfig
from domain.errors import DomainError


@dataclass
class SlotOccupancy:
    """Active reservations in one slot, in total and per type."""

    total: int = 0
    by_type: dict[int, int] = field(default_factory=dict)

    def add(self, type_id: int, count: int = 1) -> None:
        self.total += count
        self.by_type[type_id] = self.by_type.get(type_id, 0) + count


def slot_capacity(config: ClinicConfig, source: BookingSource, max_reservations: int | None = None) -> int:
    """The cap for `source`; a caller may lower it with `max_reservations`, never raise it."""
    limit = config.capacity[source]
    if max_reservations is None:
        return limit
    if max_reservations > limit:
        raise DomainError("capacity_above_limit", limit=limit)
    return max(0, max_reservations)


@dataclass(frozen=True)
class Room:
    """The places left in one slot for one booking source: in all, and for each type with a cap of its own."""

    capacity: int
    remaining: int
    by_type: dict[int, int]  # capped types only, each at most `remaining`

    def for_type(self, type_id: int) -> int:
        return self.by_type.get(type_id, self.remaining)

    def fits_any(self, type_ids: list[int]) -> bool:
        """Whether a booking of at least one of these types still fits."""
        return any(self.for_type(t) > 0 for t in type_ids)


def slot_room(
    config: ClinicConfig, occupancy: SlotOccupancy, source: BookingSource, max_reservations: int | None = None
) -> Room:
    """The one rule for room in a slot, used by bookings, availability, snapshots and the console."""
    capacity = slot_capacity(config, source, max_reservations)
    remaining = max(0, capacity - occupancy.total)
    by_type = {type_id: min(remaining, max(0, limit - occupancy.by_type.get(type_id, 0)))
               for type_id, limit in sorted(config.type_capacity.items())}
    return Room(capacity, remaining, by_type)


def check_fits(
    config: ClinicConfig,
    occupancy: SlotOccupancy,
    type_id: int,
    source: BookingSource,
    max_reservations: int | None = None,
) -> None:
    """Raise `slot_full` or `type_full` unless one more `type_id` booking fits in `occupancy`: `slot_room`'s
    answer for this one type, without building the room of every type (a batch asks once per item)."""
    if slot_capacity(config, source, max_reservations) - occupancy.total <= 0:
        raise DomainError("slot_full")
    limit = config.type_capacity.get(type_id)
    if limit is not None and limit - occupancy.by_type.get(type_id, 0) <= 0:
        raise DomainError("type_full", type_name=config.type_name(type_id))


def check_type(config: ClinicConfig, type_id: int | str) -> int:
    """Return the type id, or raise `invalid_type` naming the valid ones."""
    valid = ", ".join(f"{t.id} ({t.name})" for t in config.reservation_types)
    try:
        value = int(type_id)
    except (TypeError, ValueError):
        raise DomainError("invalid_type", value=type_id, valid=valid) from None
    if value not in config.type_ids():
        raise DomainError("invalid_type", value=type_id, valid=valid)
    return value
