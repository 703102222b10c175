"""The operator console: the sidebar page, its static files, and the read endpoints only the page needs.

`console_routes(config, model)` returns routes for the bridge app to include. The page, its files and `/config`
hold no clinic data and must be reachable without the operator token (`PUBLIC_PATHS`), since the page is
what asks for it; `/calendar` and `/agent/status` are operator endpoints behind the bridge's guard.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typing_extensions import TypedDict  # pydantic reads a TypedDict's schema from this one before 3.12

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from domain.services import Services
from chat_bridge.agent.config import ModelConfig
from chat_bridge.config import BridgeConfig
from chat_bridge.events import (AgentErrorEvent, ConfirmationRequestEvent, ConfirmationResolvedEvent, DaysChangedEvent,
                                NewMessageEvent, NoticeEvent, ReservationEvent, TypingEvent)
from chat_bridge.routes import RequestError
from chat_bridge.staff_routes import SessionView, SignedInUser
from domain.rules.identities import display_wa_id
from domain.rules.schedule import clinic_today
from domain.notices.reports import NoticeBatch, NoticeFailure, NoticeRecipient, UnsureNotice
from domain.system_agent.cards import Card, CardPerson
from domain.system_agent.history import BatchHistory, ListedBatch
from domain.system_agent.records import RecordedChange
from domain.system_agent.dashboard import BusiestSlot, Dashboard, DashboardDay, DashboardTotals
from domain.system_agent.snapshots import CalendarSnapshot, SlotBooking, SnapshotDay, SnapshotSlot
from domain.calendar.customers import CustomerView
from domain.search.service import CustomerHit
from domain.staff.accounts import StaffView
from domain.staff.audit import AuditLine
from domain.views import MessageView, ReservationView

STATIC_DIR = Path(__file__).parent / "static"
PUBLIC_PATHS = ("/", "/static", "/config")


class AgentStatus(TypedDict):
    """Whether the system agent can reach a model, and the variables to set when it cannot (`/agent/status`)."""

    configured: bool
    provider: str
    model: str | None
    missing: list[str]
    message: str | None


class SystemAgentContact(TypedDict):
    """The system agent's contact: its number, the name it is shown by, and the number as written."""

    wa_id: str
    name: str
    display: str


class ReservationTypeName(TypedDict):
    id: int
    name: str


class ConsoleConfig(TypedDict):
    """What the page needs before anything else (`/config`): who the system agent is, whether to ask for the
    operator token, or for a staff member's username and password (`accounts`: some account is enabled), the
    clinic's zone and today, what an agent applies without asking, the reservation types."""

    system_agent: SystemAgentContact
    token_required: bool
    accounts: bool
    timezone: str
    today: str
    confirmation_limits: str
    reservation_types: list[ReservationTypeName]


# The shapes the console's JavaScript reads, by the names its annotations use (`/** @type {SnapshotDay} */ day`):
# `tests/chat_bridge/test_console_shapes.py` holds every property the page reads from such a variable against the
# shape's JSON schema, so a renamed or dropped field fails a test, not an operator's page.
CONSOLE_SHAPES: dict[str, Any] = {
    model.__name__: model for model in (CalendarSnapshot, SnapshotDay, SnapshotSlot, SlotBooking, Card, CardPerson,
                                        BatchHistory, ListedBatch, RecordedChange, NoticeRecipient, Dashboard,
                                        DashboardTotals, DashboardDay, BusiestSlot, NoticeBatch, NoticeFailure,
                                        UnsureNotice, MessageView, CustomerView, CustomerHit, AgentStatus,
                                        ConsoleConfig, SystemAgentContact, ReservationView, NewMessageEvent,
                                        TypingEvent, AgentErrorEvent, ReservationEvent, NoticeEvent,
                                        ConfirmationRequestEvent, ConfirmationResolvedEvent, DaysChangedEvent,
                                        SessionView, SignedInUser, StaffView, AuditLine)}


def console_routes(config: BridgeConfig, model: ModelConfig) -> list[BaseRoute]:
    """`/`, `/static`, `/config`, `/calendar`, `/agent/status`, `/notices/batches` and `/dashboard`, for the
    bridge app to include."""
    console = Console(config, model)
    return [
        Route("/", console.page, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        Route("/config", console.config, methods=["GET"]),
        Route("/calendar", console.calendar, methods=["GET"]),
        Route("/agent/status", console.agent_status, methods=["GET"]),
        Route("/notices/batches", console.notice_batches, methods=["GET"]),
        Route("/dashboard", console.dashboard, methods=["GET"]),
    ]


def agent_status(model: ModelConfig) -> AgentStatus:
    """Whether the system agent can reach a model, and the variables to set when it cannot."""
    configured = model.configured
    message = None if configured else model.missing_sentence()
    return {"configured": configured, "provider": model.provider, "model": model.model or None,
            "missing": [] if configured else [model.key_variable], "message": message}


class Console:
    """The console's endpoints: what the page needs to start, the calendar, the agent's status."""

    def __init__(self, config: BridgeConfig, model: ModelConfig) -> None:
        self.bridge, self.model = config, model

    async def page(self, request: Request[Any]) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    async def config(self, request: Request[Any]) -> JSONResponse:
        """What the page needs before anything else: who the system agent is, and whether to ask for a token or
        for a staff member's sign-in."""
        services = request_services(request)
        return JSONResponse(self.console_config(services, accounts=await services.staff.exist()))

    def console_config(self, services: Services, *, accounts: bool = False) -> ConsoleConfig:
        wa_id, name = services.config.system_agent_wa_id, services.config.system_agent_name
        return {
            "system_agent": {"wa_id": wa_id, "name": name, "display": display_wa_id(wa_id)},
            "token_required": bool(self.bridge.operator_token),
            "accounts": accounts,
            "timezone": services.config.timezone,
            "today": clinic_today(services.config, services.clock()).isoformat(),
            "confirmation_limits": self.bridge.confirmation_limits,
            "reservation_types": [{"id": t.id, "name": t.name} for t in services.config.reservation_types],
        }

    async def calendar(self, request: Request[Any]) -> JSONResponse:
        """`?start=YYYY-MM-DD&end=YYYY-MM-DD`: each day's status and, per slot, the active reservations."""
        start = request.query_params.get("start", "").strip()
        if not start:
            raise RequestError("missing_parameter", "start is required, as YYYY-MM-DD.")
        services = request_services(request)
        end = request.query_params.get("end") or start
        return JSONResponse(await services.queries.reservation_snapshot(start, end))

    async def agent_status(self, request: Request[Any]) -> JSONResponse:
        return JSONResponse(agent_status(self.model))

    async def notice_batches(self, request: Request[Any]) -> JSONResponse:
        """The newest batches that messaged customers: per batch its notices by status and the failures
        (`?limit=`, at most 50); and every unsure notice, for the operator to send again or dismiss."""
        try:
            limit = max(1, min(int(request.query_params.get("limit", "10")), 50))
        except ValueError:
            raise RequestError("invalid_parameter", "limit must be a whole number.") from None
        reports = request_services(request).notice_reports
        return JSONResponse({"batches": [b.model_dump(mode="json") for b in await reports.batches(limit)],
                             "unsure": [u.model_dump(mode="json") for u in await reports.unsure()]})


    async def dashboard(self, request: Request[Any]) -> JSONResponse:
        """`?start=YYYY-MM-DD&end=YYYY-MM-DD` (at most 366 days): the clinic's figures over the period."""
        start = request.query_params.get("start", "").strip()
        if not start:
            raise RequestError("missing_parameter", "start is required, as YYYY-MM-DD.")
        figures = await request_services(request).dashboard.figures(start, request.query_params.get("end") or start)
        return JSONResponse(figures.model_dump(mode="json"))


def request_services(request: Request[Any]) -> Services:
    services: Services = request.state["services"]
    return services
