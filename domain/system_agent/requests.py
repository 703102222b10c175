"""The items and filters a batch accepts; unknown fields are refused, each item on its own."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from domain.errors import DomainError
from domain.identities import MAX_NAME, is_control
from domain.phone_search import MAX_QUERY

MAX_ITEMS = 10_000
MAX_ID = 2_147_483_647  # reservation ids are 32-bit integers on both databases


def _number_as_text(value: Any) -> Any:
    """A phone number sent as a JSON number (models do this) is the same number."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _printable(value: str) -> str:
    """Text a person wrote: no control or invisible formatting characters (a NUL byte, a line break)."""
    if any(is_control(c) for c in value):
        raise ValueError("it contains a control character")
    return value


Phone = Annotated[str, BeforeValidator(_number_as_text), Field(max_length=40), AfterValidator(_printable)]
Name = Annotated[str, Field(max_length=MAX_NAME), AfterValidator(_printable)]
Short = Annotated[str, Field(max_length=40), AfterValidator(_printable)]  # a date, a time, a type's name
Query = Annotated[str, Field(max_length=MAX_QUERY), AfterValidator(_printable)]
ReservationId = Annotated[int, Field(ge=1, le=MAX_ID)]
TypeId = Annotated[int, Field(ge=0, le=MAX_ID)] | Short


class BatchItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


ItemT = TypeVar("ItemT", bound=BatchItem)


class ReserveItem(BatchItem):
    wa_id: Phone
    date: Short = Field(validation_alias=AliasChoices("date", "date_str"))
    time_slot: Short
    reservation_type: TypeId = Field(default=0, validation_alias=AliasChoices("reservation_type", "type"))
    customer_name: Name | None = None
    hijri: bool = False


class ModifyItem(BatchItem):
    reservation_id: ReservationId | None = None
    wa_id: Phone | None = None
    new_date: Short | None = None
    new_time: Short | None = Field(default=None, validation_alias=AliasChoices("new_time", "new_time_slot"))
    new_type: TypeId | None = Field(default=None, validation_alias=AliasChoices("new_type", "new_reservation_type"))
    new_name: Name | None = Field(default=None, validation_alias=AliasChoices("new_name", "customer_name"))
    new_wa_id: Phone | None = None
    hijri: bool = False

    @property
    def moves(self) -> bool:
        return self.new_date is not None or self.new_time is not None or self.new_type is not None


class CancelItem(BatchItem):
    reservation_id: ReservationId | None = None
    wa_id: Phone | None = None
    date: Short | None = Field(default=None, validation_alias=AliasChoices("date", "date_str"))
    hijri: bool = False


class Filters(BatchItem):
    """What discovers the targets of a filtered modify or cancel: upcoming active reservations only."""

    wa_ids: Annotated[list[Phone], Field(max_length=MAX_ITEMS)] | Phone | None = None
    dates: Annotated[list[Short], Field(max_length=366)] | Short | None = None
    start_date: Short | None = None
    end_date: Short | None = None
    time_slots: Annotated[list[Short], Field(max_length=48)] | Short | None = None
    reservation_types: Annotated[list[Annotated[int, Field(ge=0, le=MAX_ID)]], Field(max_length=100)] | Annotated[
        int, Field(ge=0, le=MAX_ID)] | None = None
    search_query: Query | None = None
    hijri: bool = False


class Updates(BatchItem):
    new_date: Short | None = None
    new_time: Short | None = Field(default=None, validation_alias=AliasChoices("new_time", "new_time_slot"))
    new_type: TypeId | None = Field(default=None, validation_alias=AliasChoices("new_type", "new_reservation_type"))
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
    return f"Field '{field}': {error['msg'][:200]}."


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
