"""The items and filters a batch accepts, with their bounds; unknown fields are refused."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from domain.errors import DomainError
from domain.rules.identities import MAX_NAME, hidden_in, is_control
from domain.search.service import MAX_QUERY
from domain.rules.placement import Placement

MAX_ITEMS = 10_000
MAX_ID = 2_147_483_647  # reservation ids are 32-bit integers on both databases


def _number_as_text(value: Any) -> Any:
    """A phone number sent as a JSON number (models do this) is the same number."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _not_a_boolean(value: Any) -> Any:
    """Python counts true and false as 1 and 0, so pydantic would read `reservation_id: true` as reservation 1:
    an id is a number, never a boolean."""
    if isinstance(value, bool):
        raise ValueError(f"{str(value).lower()} is not an id; give the number itself")
    return value


# After an id's bounds in `Annotated`: placed before them, it would hide them from the published schema.
NotBoolean = BeforeValidator(_not_a_boolean)


def _printable(value: str) -> str:
    """Text a person wrote: no control character (a NUL byte, a line break)."""
    if any(is_control(c) for c in value):
        raise ValueError("it contains a control character")
    return value


def _plain_name(value: str) -> str:
    """A name as a person or a model types it: nothing invisible in it either (`identities.HIDDEN_CATEGORIES`);
    numbers and dates keep the bidi marks people paste with them, which their parsers drop."""
    if (hidden := hidden_in(value)) is not None:
        raise ValueError(f"it contains the invisible character {hidden}; write the name as plain text")
    return value


Phone = Annotated[str, BeforeValidator(_number_as_text), Field(max_length=40), AfterValidator(_printable)]
Name = Annotated[str, Field(max_length=MAX_NAME), AfterValidator(_plain_name)]
Short = Annotated[str, Field(max_length=40), AfterValidator(_printable)]  # a date, a time
Query = Annotated[str, Field(max_length=MAX_QUERY), AfterValidator(_printable)]
ReservationId = Annotated[int, Field(ge=1, le=MAX_ID), NotBoolean]
TypeId = Annotated[int, Field(ge=0), NotBoolean]  # "1" is 1; whether the clinic has that type, the planner checks

WA_ID = "WhatsApp number with country code, e.g. 966501234567"
WHOSE = "WhatsApp number with country code; alone: their next reservation"
DATE = "YYYY-MM-DD or DD-MM-YYYY"
TIME = "13:00 or 1:00 PM"
HIJRI = "Hijri dates"
# The descriptions are what a published schema of these models says. Another name models send for a field (the
# plan's, e.g. `date_str`) is accepted (`validation_alias`) but not published: one name per field keeps the
# schemas small and the model's calls uniform.


def _one_or_many(value: Any) -> Any:
    """A single value in place of a list is a list of that one (models send this); a schema shows the list
    only, which keeps it small."""
    return value if isinstance(value, list) or value is None else [value]


def at_most(limit: int) -> BeforeValidator:
    """A list of more than `limit` values, refused by its length before any value is validated: a call of
    200,000 empty items costs a count, not 200,000 models (which held the event loop for seconds)."""
    def counted(value: Any) -> Any:
        if isinstance(value, list) and len(value) > limit:
            raise ValueError(f"it has {len(value)} items; at most {limit} per call")
        return value
    return BeforeValidator(counted)


ValueT = TypeVar("ValueT")
Many = Annotated[list[ValueT], BeforeValidator(_one_or_many)]


class BatchItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


ItemT = TypeVar("ItemT", bound=BatchItem)
Requests = Annotated[Many[ItemT], Field(max_length=MAX_ITEMS), at_most(MAX_ITEMS)]  # the items of one batch


class ReserveItem(BatchItem):
    wa_id: Phone = Field(description=WA_ID)
    date: Short = Field(validation_alias=AliasChoices("date", "date_str"), description=DATE)
    time_slot: Short = Field(description=TIME)
    reservation_type: TypeId = Field(default=0, validation_alias=AliasChoices("reservation_type", "type"))
    customer_name: Name | None = None
    hijri: bool = Field(default=False, description=HIJRI)


class ModifyItem(BatchItem):
    reservation_id: ReservationId | None = None
    wa_id: Phone | None = Field(default=None, description=WHOSE)
    new_date: Short | None = Field(default=None, description=DATE)
    new_time: Short | None = Field(default=None, validation_alias=AliasChoices("new_time", "new_time_slot"),
                                   description=TIME)
    new_type: TypeId | None = Field(default=None, validation_alias=AliasChoices("new_type", "new_reservation_type"))
    new_name: Name | None = Field(default=None, validation_alias=AliasChoices("new_name", "customer_name"))
    new_wa_id: Phone | None = Field(default=None, description="Move customer, bookings and chat to this number")
    hijri: bool = Field(default=False, description=HIJRI)

    @property
    def moves(self) -> bool:
        return self.new_date is not None or self.new_time is not None or self.new_type is not None


class CancelItem(BatchItem):
    reservation_id: ReservationId | None = None
    wa_id: Phone | None = Field(default=None, description=WHOSE)
    date: Short | None = Field(default=None, validation_alias=AliasChoices("date", "date_str"),
                               description="With wa_id: their reservation that day")
    hijri: bool = Field(default=False, description=HIJRI)


class Filters(BatchItem):
    """Every upcoming reservation matching all given"""

    wa_ids: Annotated[Many[Phone], Field(max_length=MAX_ITEMS), at_most(MAX_ITEMS)] | None = None
    dates: Annotated[Many[Short], Field(max_length=366), at_most(366)] | None = Field(default=None, description=DATE)
    start_date: Short | None = Field(default=None, description="From, inclusive")
    end_date: Short | None = Field(default=None, description="To, inclusive")
    time_slots: Annotated[Many[Short], Field(max_length=48), at_most(48)] | None = Field(default=None,
                                                                                          description=TIME)
    reservation_types: Annotated[Many[TypeId], Field(max_length=100), at_most(100)] | None = None
    search_query: Query | None = Field(
        default=None, description="Fuzzy name or number (always confirmed)")
    hijri: bool = Field(default=False, description=HIJRI)


class Updates(BatchItem):
    """With filters: the change to each one found"""

    new_date: Short | None = Field(default=None, description=DATE)
    new_time: Short | None = Field(default=None, validation_alias=AliasChoices("new_time", "new_time_slot"),
                                   description=TIME)
    new_type: TypeId | None = Field(default=None, validation_alias=AliasChoices("new_type", "new_reservation_type"))
    placement: Placement = Field(default="keep_time", description=(
        "If that time is full or absent: the nearest free slot, or first_free"))
    hijri: bool = Field(default=False, description=HIJRI)


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
