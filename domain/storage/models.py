"""SQLAlchemy models of the clinic calendar. Alembic migrations are the schema's source of truth."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from domain.clock import system_clock
from domain.rules.delivery import DeliveryStatus as DeliveryStatus
from domain.rules.planning import ReservationStatus

E = TypeVar("E", bound=StrEnum)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StoredEnum(TypeDecorator[E]):
    """A `StrEnum` in a VARCHAR column: written as its value (the schema is the same), read back as a member."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


class MessageRole(StrEnum):
    """Who wrote a conversation message: the customer (`user`), an operator (`secretary`), an agent
    (`assistant`), or a tool call the system agent made (`tool`)."""

    USER = "user"
    ASSISTANT = "assistant"
    SECRETARY = "secretary"
    TOOL = "tool"


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"

    wa_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    is_blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    is_favorite: Mapped[bool] = mapped_column(Boolean, default=False)
    # Answered a notice with a stop word (or an operator said so): no notice is ever queued for them.
    notices_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)


class Reservation(Base):
    __tablename__ = "reservations"
    __table_args__ = (
        Index("ix_reservations_slot", "date", "time_slot", "status", "type"),
        Index("ix_reservations_customer", "wa_id", "status"),
        Index("ix_reservations_status_date_customer", "status", "date", "wa_id"),
        Index("ix_reservations_status_customer_date", "status", "wa_id", "date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    wa_id: Mapped[str] = mapped_column(String(20), ForeignKey("customers.wa_id"))
    date: Mapped[date] = mapped_column(Date)
    time_slot: Mapped[str] = mapped_column(String(5))
    type: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[ReservationStatus] = mapped_column(StoredEnum(ReservationStatus, 10),
                                                      default=ReservationStatus.ACTIVE)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock, onupdate=system_clock)
    # booked, confirmed (by the customer or an operator) or arrived; kept as it was when the status becomes no_show.
    attendance: Mapped[str] = mapped_column(String(10), default="booked", server_default="booked")
    attendance_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late_cancel: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # inside the window


class ConversationMessage(Base):
    __tablename__ = "conversation_messages"
    __table_args__ = (Index("ix_messages_conversation", "wa_id", "timestamp"),
                      Index("ix_messages_answers", "wa_id", "answers_through"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    wa_id: Mapped[str] = mapped_column(String(20))
    role: Mapped[MessageRole] = mapped_column(StoredEnum(MessageRole, 12))
    text: Mapped[str] = mapped_column(Text)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)
    # Delivery of an operator's message to WhatsApp: pending, sent, failed (None when not sent out).
    delivery_status: Mapped[DeliveryStatus | None] = mapped_column(StoredEnum(DeliveryStatus, 12))
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A reply: the newest message of the conversation it answers (it answers every one up to there that no
    # earlier reply answered). None for every other message.
    answers_through: Mapped[int | None] = mapped_column(Integer)


class Vacation(Base):
    __tablename__ = "vacations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    # A closure of some hours only: the slots starting at or after start_time and before end_time ('HH:MM').
    start_time: Mapped[str | None] = mapped_column(String(5))
    end_time: Mapped[str | None] = mapped_column(String(5))


class BatchRecord(Base):
    """An applied batch: who, when, which tool and arguments, and each item's before/after."""

    __tablename__ = "batches"
    __table_args__ = (Index("ix_batches_effects", "actor", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tool: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100))  # who signed it (`domain.staff.roles.author_of`)
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What it did that a person may have to confirm (`domain.system_agent.effects`), in which turn (MCP session),
    # and whether a person confirmed it: what an agent applied without asking counts against its limits.
    turn: Mapped[str | None] = mapped_column(String(64))
    effects: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    asked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    request: Mapped[str | None] = mapped_column(String(300))  # what it was asked for, as its caller worded it


class ConfirmationUse(Base):
    """A redeemed confirmation token (its nonce), kept until it expires: a token works once, on any instance."""

    __tablename__ = "confirmation_uses"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ServiceSecret(Base):
    """A secret the service generated once and shares through the database (the confirmation tokens' key)."""

    __tablename__ = "service_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class PendingConfirmation(Base):
    """A confirmation a tool asked an operator for, and its answer (see `domain.calendar.pending_confirmations`)."""

    __tablename__ = "pending_confirmations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    wa_id: Mapped[str] = mapped_column(String(20))
    message_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AgentJob(Base):
    """An agent turn to run for a conversation, stored with the message that asks for it: the durable work
    queue every instance on the database serves (see `domain.workers.jobs`)."""

    __tablename__ = "agent_jobs"
    __table_args__ = (Index("ix_agent_jobs_open", "status", "wa_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    wa_id: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(12))
    message_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worker: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notice(Base):
    """A message to a customer in the durable outbox (see `domain.notices.outbox`): queued in the transaction of the
    change that causes it, sent once by a worker, then updated by WhatsApp's delivery statuses.

    `status`: queued, sending (claimed; `lease_until` bounds the claim), sent, delivered, read, failed, or
    skipped (nothing sent: a reminder whose reservation moved, a customer who opted out meanwhile)."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_open", "status", "available_at"), Index("ix_notices_batch", "batch_id"),
                      Index("ix_notices_customer", "wa_id", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str | None] = mapped_column(String(36))
    wa_id: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(12))
    reservation_id: Mapped[int | None] = mapped_column(Integer)
    # The reservation's date and time the notice speaks of (a reminder is stale once they change).
    slot_date: Mapped[date | None] = mapped_column(Date)
    slot_time: Mapped[str | None] = mapped_column(String(5))
    template: Mapped[str | None] = mapped_column(String(512))  # None: a free text (inside the 24-hour window)
    language: Mapped[str] = mapped_column(String(8))
    parameters: Mapped[list[str]] = mapped_column(JSON)
    text: Mapped[str] = mapped_column(Text)  # as the customer reads it
    # Quick-reply buttons, in order: [{"id": payload, "title": text}] (template buttons or interactive ones).
    buttons: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worker: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    message_id: Mapped[int | None] = mapped_column(Integer)  # the conversation's copy, once sent or failed
    error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the current claim's send began: set (and committed) before the request to WhatsApp leaves, so a
    # notice whose sender died after it is known to be unsure, not unsent.
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)


class SchedulerRun(Base):
    """A daily task that ran (the day-before reminders of one date): the row makes it happen once."""

    __tablename__ = "scheduler_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)


class WaitlistEntry(Base):
    """A customer waiting for a place: a date range, optionally some start times and a type. `status`: waiting,
    booked (an offer was accepted: `reservation_id`), removed, or expired (its range is over)."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (Index("ix_waitlist_entries_open", "status", "start_date", "end_date"),
                      Index("ix_waitlist_entries_customer", "wa_id", "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    wa_id: Mapped[str] = mapped_column(String(20), ForeignKey("customers.wa_id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    times: Mapped[list[str] | None] = mapped_column(JSON)
    type: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(100))  # who signed it (`domain.staff.roles.author_of`)
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    reservation_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)


class WaitlistPlace(Base):
    """A place that freed in a slot, offered to the waitlist in waves. `status`: offering (wave `wave` holds it
    until `hold_until`), taken (by `offer_id`), or lapsed (nobody left to offer it to, or its slot has passed).
    Taking it is one conditional update, so exactly one acceptance wins."""

    __tablename__ = "waitlist_places"
    __table_args__ = (Index("ix_waitlist_places_open", "status", "hold_until"),
                      Index("ix_waitlist_places_slot", "slot_date", "slot_time", "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slot_date: Mapped[date] = mapped_column(Date)
    slot_time: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(10), default="offering")
    wave: Mapped[int] = mapped_column(Integer, default=1)
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)


class WaitlistOffer(Base):
    """A place offered to one waiting customer in one wave. `status`: open, accepted, declined, gone (another
    took the place, or the hold ended), or failed (accepted, but the rules refused the booking)."""

    __tablename__ = "waitlist_offers"
    __table_args__ = (Index("ix_waitlist_offers_place", "place_id", "status"),
                      Index("ix_waitlist_offers_entry", "entry_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    place_id: Mapped[int] = mapped_column(Integer, ForeignKey("waitlist_places.id"))
    entry_id: Mapped[int] = mapped_column(Integer, ForeignKey("waitlist_entries.id"))
    wa_id: Mapped[str] = mapped_column(String(20))
    wave: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="open")
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_id: Mapped[int | None] = mapped_column(Integer)


class StaffUser(Base):
    """A member of the clinic's staff who signs in: an admin, an operator or a viewer (`domain.staff.roles`).
    Only the password's argon2 hash is kept. A disabled account signs in nowhere and its sessions and tokens stop."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(10))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffSession(Base):
    """A signed-in console: the SHA-256 of its cookie's secret (the secret itself is never stored), its user, and
    when it ends (`expires_at`, or `ended_at` at sign-out)."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_user", "user_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One line of the append-only audit log: who (`actor`, e.g. `operator:amal`, `agent:amal`, `customer:9665…`,
    `system`, `mcp:amal@<client>`), with which role, did or tried what, to what, and whether it was refused.
    The database refuses to update or delete a line (triggers of migration 0015)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_actor", "actor", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(10))  # ok | refused
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class OAuthClient(Base):
    """An OAuth client of `/mcp`, registered dynamically (RFC 7591): its metadata as it was accepted."""

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    metadata_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)


class OAuthGrant(Base):
    """A credential of the OAuth server, kept by the SHA-256 of its secret: an authorization request waiting for
    consent (`request`), an authorization code (`code`), an access token (`access`) or a refresh token (`refresh`).
    A grant's family is the consent it came from: revoking one revokes the family."""

    __tablename__ = "oauth_grants"
    __table_args__ = (Index("ix_oauth_grants_family", "family"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    family: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("staff_users.id"))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # a code's PKCE challenge and redirect, a request's
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReservationChange(Base):
    """A change of one reservation made alone (a customer's own, a booking from the console, a waitlist offer
    accepted, a reminder's button), signed by its actor and written in the change's transaction. A batch's changes
    are read from its record instead (`batches.changes`), so a batch writes no row here."""

    __tablename__ = "reservation_history"
    __table_args__ = (Index("ix_reservation_history_reservation", "reservation_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reservation_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=system_clock)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))  # created, moved, modified, cancelled, reinstated, confirmed
    # The booking before and after, as a batch's record keeps it: {id, wa_id, date, time_slot, type, status}.
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
