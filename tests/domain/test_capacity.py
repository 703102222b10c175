"""Pure capacity rules: no database."""

import pytest

from domain.rules.capacity import SlotOccupancy, check_fits, check_type, slot_capacity, slot_room
from domain.config import BookingSource, ClinicConfig
from domain.errors import DomainError

CONFIG = ClinicConfig()


def occupancy(total: int, type_id: int = 0) -> SlotOccupancy:
    counts = SlotOccupancy()
    counts.add(type_id, total)
    return counts


def test_agents_may_fill_five_places() -> None:
    check_fits(CONFIG, occupancy(4), 0, BookingSource.AGENT)
    with pytest.raises(DomainError) as error:
        check_fits(CONFIG, occupancy(5), 0, BookingSource.AGENT)
    assert error.value.code == "slot_full"


def test_operators_may_fill_six_places() -> None:
    check_fits(CONFIG, occupancy(5), 0, BookingSource.OPERATOR)
    with pytest.raises(DomainError):
        check_fits(CONFIG, occupancy(6), 0, BookingSource.OPERATOR)


def test_a_caller_may_lower_the_cap() -> None:
    assert slot_capacity(CONFIG, BookingSource.AGENT, 2) == 2
    with pytest.raises(DomainError):
        check_fits(CONFIG, occupancy(2), 0, BookingSource.AGENT, max_reservations=2)


def test_a_caller_may_not_raise_the_cap() -> None:
    with pytest.raises(DomainError) as error:
        slot_capacity(CONFIG, BookingSource.AGENT, 9)
    assert error.value.code == "capacity_above_limit"


def test_per_type_cap_applies_on_top_of_the_slot_cap() -> None:
    config = ClinicConfig(type_capacity={1: 2})
    check_fits(config, occupancy(2, type_id=1), 0, BookingSource.AGENT)
    with pytest.raises(DomainError) as error:
        check_fits(config, occupancy(2, type_id=1), 1, BookingSource.AGENT)
    assert error.value.code == "type_full"
    assert "Follow-up" in error.value.message()


def test_unknown_type_names_the_valid_ones() -> None:
    with pytest.raises(DomainError) as error:
        check_type(CONFIG, 7)
    assert error.value.code == "invalid_type"
    assert "0 (Check-up)" in error.value.message()
    assert check_type(CONFIG, "1") == 1


def test_check_fits_refuses_exactly_when_slot_room_leaves_no_place_for_the_type() -> None:
    """`check_fits` answers for one type without building the room of every type: the same rule as `slot_room`."""
    config = ClinicConfig().model_copy(update={"type_capacity": {1: 2}})
    for source in BookingSource:
        for total in range(0, 8):
            for of_type in range(0, min(total, 4) + 1):
                for type_id in (0, 1):
                    occupancy = SlotOccupancy(total, {1: of_type, 0: total - of_type})
                    room = slot_room(config, occupancy, source)
                    expected = None if room.remaining and room.for_type(type_id) else (
                        "slot_full" if room.remaining == 0 else "type_full")
                    try:
                        check_fits(config, occupancy, type_id, source)
                        refused = None
                    except DomainError as error:
                        refused = error.code
                    assert refused == expected, (source, total, of_type, type_id)
