"""The operator story of a long listing: 600 reservations, read page after page by following next_cursor."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.acceptance.support import Clinic, calendar, fill, ids, next_cursor, reservation_lines, roles, totals
from tests.fakes.llm import Call, Reply, Respond, SeenRequest

FIRST_DAY = "2026-12-02"
PAGE = 200  # asked for; a page is shortened when it would not fit in one answer, and the cursor goes on from there
CUSTOMER_LINE = re.compile(r"^(\d{8,15})\|", re.MULTILINE)


def follow_the_cursor(arguments: dict[str, Any]) -> Callable[[SeenRequest], Reply]:
    """The model calls again with the cursor of the page it just read, until a page has none."""
    def decide(seen: SeenRequest) -> Reply:
        cursor = next_cursor(seen.last_result)
        if cursor is None:
            return Reply("That is every reservation of the period.")
        return Reply(calls=(Call("system_get_reservations", arguments | {"cursor": cursor}),))
    return decide


async def test_following_next_cursor_shows_the_model_every_one_of_600_reservations(clinic: Clinic) -> None:
    places = await fill(clinic.services, FIRST_DAY, 600)
    listing = {"start_date": FIRST_DAY, "end_date": places[-1][0], "max_results": PAGE}
    clinic.llm.script(Reply(calls=(Call("system_get_reservations", listing),)),
                      *[Respond(follow_the_cursor(listing))] * 9)

    exchange = await clinic.ask(f"List every reservation from {FIRST_DAY} to {places[-1][0]}")

    assert exchange.reply == "That is every reservation of the period."
    results = [text for _, text in clinic.llm.seen[-1].tool_results]
    pages = [reservation_lines(text) for text in results]
    seen_ids = set().union(*pages)
    stored_ids = {b.id for b in await calendar(clinic.services)}
    assert totals(results[0])[0] == len(seen_ids) == len(stored_ids) == 600
    assert seen_ids == stored_ids
    assert sum(len(page) for page in pages) == 600 and all(0 < len(page) <= PAGE for page in pages)
    seen_customers = set().union(*[set(CUSTOMER_LINE.findall(text)) for text in results])
    assert seen_customers == {b.wa_id for b in await calendar(clinic.services)}
    rows = await clinic.conversation()
    assert roles(rows) == ["secretary", *["tool"] * len(pages), "assistant"] and ids(exchange.messages) == ids(rows)
    cursors = [row["meta"]["arguments"].get("cursor") for row in rows[1:-1]]
    assert cursors == [None, *[next_cursor(text) for text in results[:-1]]]
