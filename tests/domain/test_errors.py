"""The catalogue of domain errors: every code has its sentences and its kind; one body shape for answers."""

from __future__ import annotations

from domain.errors import KINDS, MESSAGES, DomainError, ErrorKind, error_body


def test_every_error_code_has_a_kind() -> None:
    assert set(KINDS) == set(MESSAGES)


def test_a_domain_error_carries_the_kind_of_its_code() -> None:
    kinds = [DomainError(code).kind for code in ("customer_not_found", "slot_full", "changed_since", "invalid_date")]
    assert kinds == [ErrorKind.NOT_FOUND, ErrorKind.CONFLICT, ErrorKind.CONFLICT, ErrorKind.INVALID]


def test_an_error_body_is_the_code_and_the_sentence_under_error() -> None:
    assert error_body("slot_full", "Full.") == {"error": {"code": "slot_full", "message": "Full."}}
    assert error_body("x", "y", message={"id": 1}) == {"error": {"code": "x", "message": "y"}, "message": {"id": 1}}
