"""The bridge's Starlette application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from calendar_agent.composition import Services, build_services_from_settings
from calendar_agent.settings import Settings


class State(TypedDict):
    services: Services


def build_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        services = build_services_from_settings(settings)
        try:
            yield {"services": services}
        finally:
            await services.db.dispose()

    return Starlette(routes=[Route("/health", health), Route("/customers/names", customer_names)], lifespan=lifespan)


async def health(request: Request[State]) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def customer_names(request: Request[State]) -> JSONResponse:
    return JSONResponse(await request.state.services.customers.contacts())
