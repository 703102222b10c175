"""wa_id normalisation and validation."""

import pytest

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
