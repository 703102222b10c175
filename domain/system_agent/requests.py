"""The items and filters a batch accepts; unknown fields are refused, each item on its own."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from domain.errors import DomainError

MAX_ITEMS = 10_000


class BatchItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


ItemT = TypeVar("ItemT", bound=BatchItem)


class ReserveItem(BatchItem):
    wa_id: str
    date: str = Field(validation_alias=AliasChoices("date", "date_str"))
    time_slot: str
    reservation_type: int | str = Field(default=0, validation_alias=AliasChoices("reservation_type", "type"))
    customer_name: str | None = None
    hijri: bool = False


class ModifyItem(BatchItem):
    reservation_id: int | None = None
    wa_id: str | None = None
    new_date: str | None = None
    new_time: str | None = Field(default=None, validation_alias=AliasChoices("new_time", "new_time_slot"))
    new_type: int | str | None = Field(default=None, validation_alias=AliasChoices("new_type", "new_reservation_type"))
    new_name: str | None = Field(default=None, validation_alias=AliasChoices("new_name", "customer_name"))
    new_wa_id: str | None = None
    hijri: bool = False

    @property
    def moves(self) -> bool:
        return self.new_date is not None or self.new_time is not None or self.new_type is not None


class CancelItem(BatchItem):
    reservation_id: int | None = None
    wa_id: str | None = None
    date: str | None = Field(default=None, validation_alias=AliasChoices("date", "date_str"))
    hijri: bool = False


class Filters(BatchItem):
    """What discovers the targets of a filtered modify or cancel: upcoming active reservations only."""

    wa_ids: list[str] | str | None = None
    dates: list[str] | str | None = None
    start_date: str | None = None
    end_date: str | None = None
    time_slots: list[str] | str | None = None
    reservation_types: list[int] | int | None = None
    search_query: str | None = None
    hijri: bool = False


class Updates(BatchItem):
    new_date: str | None = None
    new_time: str | None = Field(default=None, validation_alias=AliasChoices("new_time", "new_time_slot"))
    new_type: int | str | None = Field(default=None, validation_alias=AliasChoices("new_type", "new_reservation_type"))
    hijri: bool = False


def parse_item(model: type[ItemT], raw: Any) -> ItemT:
    """The item, or `invalid_request` saying what is wrong with it."""
    if not isinstance(raw, dict):
        raise DomainError("invalid_request", reason="each request must be an object.")
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise DomainError("invalid_request", reason=" ".join(_problem(e) for e in error.errors())) from None


def _problem(error: Any) -> str:
    field = ".".join(str(p) for p in error["loc"]) or "request"
    if error["type"] == "extra_forbidden":
        return f"Unknown field '{field}'."
    if error["type"] == "missing":
        return f"Missing field '{field}'."
    return f"Field '{field}': {error['msg']}."


def as_list(requests: Any) -> list[Any]:
    """One request or a list of them; refuses an empty or oversized batch."""
    items = requests if isinstance(requests, list) else [requests] if requests is not None else []
    if not items:
        raise DomainError("invalid_batch", reason="it is empty; give at least one request, or filters.")
    if len(items) > MAX_ITEMS:
        raise DomainError("invalid_batch", reason=f"it has {len(items)} requests; at most {MAX_ITEMS} per call.")
    return items


def parse_whole(model: type[ItemT], raw: Any, what: str) -> ItemT:
    """Filters or updates: a problem there fails the whole batch."""
    try:
        return parse_item(model, raw or {})
    except DomainError as error:
        raise DomainError("invalid_batch", reason=f"{what}: {error.details['reason']}") from None
