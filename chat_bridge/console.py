"""The operator console: the sidebar page, its static files, and the read endpoints only the page needs.

`console_routes(settings)` returns routes for the bridge app to include. The page, its files and `/config`
hold no clinic data and must be reachable without the operator token (`PUBLIC_PATHS`), since the page is
what asks for it; `/calendar` and `/agent/status` are operator endpoints behind the bridge's guard.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from calendar_agent.composition import Services
from calendar_agent.settings import Settings
from domain.errors import DomainError
from domain.identities import display_wa_id
from domain.schedule import clinic_today

STATIC_DIR = Path(__file__).parent / "static"
PUBLIC_PATHS = ("/", "/static", "/config")
# What each provider needs before the agent can answer: its key, unless a self-hosted base URL stands in.
PROVIDER_SETTINGS = {
    "anthropic": ("ANTHROPIC_API_KEY", "anthropic_api_key", "anthropic_base_url"),
    "openai": ("OPENAI_API_KEY", "openai_api_key", "openai_base_url"),
}


def console_routes(settings: Settings) -> list[BaseRoute]:
    """`/`, `/static`, `/config`, `/calendar` and `/agent/status`, for the bridge app to include."""
    console = Console(settings)
    return [
        Route("/", console.page, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        Route("/config", console.config, methods=["GET"]),
        Route("/calendar", console.calendar, methods=["GET"]),
        Route("/agent/status", console.agent_status, methods=["GET"]),
    ]


def agent_status(settings: Settings) -> dict[str, Any]:
    """Whether the system agent can reach a model, and the variables to set when it cannot."""
    provider = settings.llm_provider
    key_variable, key_field, base_url_field = PROVIDER_SETTINGS[provider]
    configured = bool(getattr(settings, key_field) or getattr(settings, base_url_field))
    missing = [] if configured else [key_variable]
    return {"configured": configured, "provider": provider, "model": settings.llm_model or None,
            "missing": missing, "message": None if configured else not_configured_message(provider, key_variable)}


def not_configured_message(provider: str, key_variable: str) -> str:
    return (f"The system agent has no language model: LLM_PROVIDER is {provider!r} and {key_variable} is not set. "
            f"Set {key_variable} in .env (or choose another provider with LLM_PROVIDER), then restart the service.")



class Console:
    """The console's endpoints over one settings object."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def page(self, request: Request[Any]) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    async def config(self, request: Request[Any]) -> JSONResponse:
        """What the page needs before anything else: who the system agent is, and whether to ask for a token."""
        services = request_services(request)
        wa_id = self.settings.system_agent_wa_id
        return JSONResponse({
            "system_agent": {"wa_id": wa_id, "name": self.settings.system_agent_name, "display": display_wa_id(wa_id)},
            "token_required": bool(self.settings.operator_token),
            "timezone": services.config.timezone,
            "today": clinic_today(services.config, services.clock()).isoformat(),
            "confirmation_threshold": self.settings.confirmation_threshold,
            "reservation_types": [{"id": t.id, "name": t.name} for t in services.config.reservation_types],
        })

    async def calendar(self, request: Request[Any]) -> JSONResponse:
        """`?start=YYYY-MM-DD&end=YYYY-MM-DD`: each day's status and, per slot, the active reservations."""
        start = request.query_params.get("start", "").strip()
        if not start:
            return bad_request("missing_parameter", "start is required, as YYYY-MM-DD.")
        services = request_services(request)
        try:
            snapshot = await services.queries.reservation_snapshot(start, request.query_params.get("end") or start)
        except DomainError as error:
            return JSONResponse({"error": error.to_dict()}, status_code=400)
        return JSONResponse(snapshot)

    async def agent_status(self, request: Request[Any]) -> JSONResponse:
        return JSONResponse(agent_status(self.settings))


def request_services(request: Request[Any]) -> Services:
    services: Services = request.state["services"]
    return services


def bad_request(code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=400)
