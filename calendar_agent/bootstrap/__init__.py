"""One bootstrap module per process kind, the only places that build and wire the product's parts:
`serve` (the bridge, both agents, the MCP server at /mcp, the console) and `mcp` (the system agent's MCP
server alone, over stdio or streamable HTTP)."""

from __future__ import annotations

import logging

from calendar_agent.settings import Settings
from domain.clock import Clock, system_clock
from domain.storage.database import create_database
from domain.services import Services, build_services
from domain.search.service import PhoneSearchService

logger = logging.getLogger(__name__)


def services_from(settings: Settings, clock: Clock = system_clock) -> Services:
    """The domain's services over the database `settings` name; the caller disposes of `services.db`."""
    return build_services(
        settings.clinic_config(), create_database(settings.database_url), clock,
        limits=settings.effect_limits(),
        confirmation_secret=settings.confirmation_secret.encode() or None, notices=settings.notice_config(),
        waitlist=settings.waitlist_config(),
    )


async def warm_search(search: PhoneSearchService) -> None:
    """Build the customer search index as the process starts, so no search waits for it (`/ready` says when it
    is built). A failure is logged, not raised: the first search then builds it."""
    try:
        await search.warm()
    except Exception:  # noqa: BLE001 - a database that is not up yet is the readiness check's to report
        logger.warning("the customer search index could not be built at start; the first search builds it",
                       exc_info=True)
