"""wa_id normalisation and validation."""

import pytest

from domain.services import Services
from domain.errors import DomainError
from domain.identities import normalize_wa_id


@pytest.mark.parametrize("raw", ["+966 50 123 4567", "966501234567", "(966) 50-123-4567", "00966501234567",
                                 "٩٦٦٥٠١٢٣٤٥٦٧"])
def test_numbers_are_normalised_to_e164_digits(raw: str) -> None:
    assert normalize_wa_id(raw) == "966501234567"


@pytest.mark.parametrize("raw", ["12345", "abc", "+1 555", "9665012345678901234", "+999 1234 5678"])
def test_invalid_numbers_raise_a_clear_error(raw: str) -> None:
    with pytest.raises(DomainError) as error:
        normalize_wa_id(raw)
    assert error.value.code == "invalid_wa_id"
    assert raw in error.value.message()


@pytest.mark.parametrize("raw", ["۹۶۶۵۰۱۲۳۴۵۶۷", "९६६५०१२३४५६७", "９６６５０１２３４５６７", "＋９６６ ５０ １２３ ４５６７",
                                 "\u2066+966 50 123 4567\u2069", 966501234567])
def test_digits_of_any_script_are_the_same_number(raw: str | int) -> None:
    assert normalize_wa_id(raw) == "966501234567"


@pytest.mark.parametrize("raw", ["96650123456⁷", "9" * 1_000_000, True, 9.66e11, None, "966\x00501234567"])
def test_superscripts_huge_inputs_and_other_types_are_invalid_and_quoted_short(raw: object) -> None:
    with pytest.raises(DomainError) as error:
        normalize_wa_id(raw)  # type: ignore[arg-type]
    assert error.value.code == "invalid_wa_id" and len(error.value.message()) < 120


async def test_one_number_written_in_three_scripts_is_one_customer_with_one_upcoming_reservation(
    services: Services
) -> None:
    for written, day in (("966501234567", "2026-12-06"), ("٩٦٦٥٠١٢٣٤٥٦٧", "2026-12-07"), ("९६६५०१२३४५६७", "2026-12-08")):
        await services.reservations.reserve(written, day, "11:00")
    [only] = await services.reservations.customer_reservations("966501234567")
    assert only.date == "2026-12-08"
