"""The operator's side of the acceptance stories.

- `Clinic`: the service `calendar-agent serve` builds, running on loopback, and the operator's two ways in:
  `ask` (a message to the system agent, watched on `/ws` until the turn ends) and `conversation`.
- `Exchange`: what the sidebar received during one turn.
- The calendar as the database holds it (`calendar`, `Booking`), and the people the stories book.
- How a scripted model reads its tool results (`reservation_lines`, `next_cursor`, `batch_id`, ...): the
  contract of the tools' text answers, in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

import httpx2
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

from domain.services import Services
from domain.system_agent.batch import BatchOptions
from domain.storage.models import Reservation
from domain.rules.schedule import slots_for
from tests.fakes.llm import ScriptedLLM

AGENT = "12125550123"  # the system agent's contact: the operators' chat
# The clinic's "now" is Tuesday 2026-12-01 10:00 (tests/conftest.py).
SUNDAY, MONDAY, TUESDAY = "2026-12-06", "2026-12-07", "2026-12-08"
# How a slot is written in the tools' answers: 24-hour time, then the 12-hour label.
TIME_LABELS = {"11:00": "11:00 (11:00 AM)", "13:00": "13:00 (1:00 PM)", "15:00": "15:00 (3:00 PM)"}
TURN_SECONDS = 20.0  # a bound on one turn, not a pause: `ask` returns as soon as the turn ends
SLOT_FULL = "This time slot is fully booked."


@dataclass(frozen=True)
class Person:
    wa_id: str
    name: str


FATIMA = Person("966501110001", "فاطمة الزهراني")
OMAR = Person("966501110002", "Omar Haddad")
SARA = Person("966501110003", "Sara Khan")
LAYLA = Person("966501110004", "ليلى العتيبي")
KHALID = Person("966501110005", "Khalid Al-Harbi")
NOURA = Person("966501110006", "نورة القحطاني")
AHMED = Person("966501110007", "أحمد الشهري")
HASSAN = Person("966501110008", "Hassan Youssef")
REEM = Person("966501110009", "Reem Al-Dosari")
ABDULLAH = Person("966501110010", "عبدالله المطيري")
YOUSEF = Person("966501110011", "Yousef Al-Amri")
HIND = Person("966501110012", "هند السبيعي")
ZAINAB = Person("966501110013", "Zainab Ibrahim")
MOHAMMED_ALI = Person("966501110014", "Mohammed Ali")
MOHAMMED_SALEH = Person("966501110015", "Mohammed Saleh")

# Monday 2026-12-07: ten customers, Arabic and English names; 11:00 holds 4 of its 5 places.
MONDAY_BOOKINGS = [
    (FATIMA, MONDAY, "11:00"), (OMAR, MONDAY, "11:00"), (SARA, MONDAY, "11:00"), (LAYLA, MONDAY, "11:00"),
    (KHALID, MONDAY, "13:00"), (NOURA, MONDAY, "13:00"), (AHMED, MONDAY, "13:00"),
    (HASSAN, MONDAY, "15:00"), (REEM, MONDAY, "15:00"), (ABDULLAH, MONDAY, "15:00"),
]
# Sunday 2026-12-06: two at 11:00 (Monday's 11:00 has room for one of them), one at 13:00.
SUNDAY_BOOKINGS = [(YOUSEF, SUNDAY, "11:00"), (HIND, SUNDAY, "11:00"), (ZAINAB, SUNDAY, "13:00")]


# --- The running service, as the operator reaches it ---------------------------------------------------


@dataclass
class Exchange:
    """An operator's message and every event the sidebar received until the agent's turn ended."""

    events: list[dict[str, Any]]
    mistakes: list[str]  # why the scripted model could not decide, if it could not

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["type"] == kind]

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The rows of the operators' chat the sidebar was sent, in order."""
        return [e["message"] for e in self.of_type("conversation_new_message") if e["wa_id"] == AGENT]

    @property
    def errors(self) -> list[str]:
        return [event["error"] for event in self.of_type("system_agent_error") if event["wa_id"] == AGENT]

    @property
    def reply(self) -> str:
        """The agent's answer; an AssertionError saying what happened instead when there is none."""
        answers: list[str] = [m["text"] for m in self.messages if m["role"] == "assistant" and not is_confirmation(m)]
        if not answers:
            raise AssertionError(f"the agent did not answer: errors {self.errors}, model mistakes {self.mistakes}")
        return answers[-1]

    def tool_rows(self) -> list[dict[str, Any]]:
        return [message for message in self.messages if message["role"] == "tool"]


@dataclass
class Clinic:
    """The whole service on loopback over the test database, and the scripted model behind it."""

    url: str
    http: httpx2.AsyncClient
    services: Services
    llm: ScriptedLLM

    @contextlib.asynccontextmanager
    async def sidebar(self) -> AsyncIterator[ClientConnection]:
        async with connect("ws" + self.url.removeprefix("http") + "/ws") as socket:
            yield socket

    async def ask(self, text: str, *, answer: bool | None | Callable[[dict[str, Any]], bool] = None) -> Exchange:
        """Send `text` to the system agent as the console does, and watch the sidebar until the turn ends.
        `answer`: the operator's yes (True) or no (False) to each confirmation the turn asks for, or a function of
        the `confirmation_request` event that decides."""
        async with self.sidebar() as sidebar:
            response = await self.http.post("/whatsapp/message", json={"wa_id": AGENT, "message": text})
            assert response.status_code == 202, response.text
            events = await self._until_turn_ends(sidebar, answer)
        return Exchange(events, list(self.llm.mistakes))

    async def _until_turn_ends(self, sidebar: ClientConnection,
                               answer: bool | None | Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        async with asyncio.timeout(TURN_SECONDS):
            while not turn_ended(events):
                events.append(json.loads(await sidebar.recv()))
                if events[-1]["type"] == "confirmation_request":
                    await self.confirm(events[-1], answer(events[-1]) if callable(answer) else answer)
        return events

    async def confirm(self, request: dict[str, Any], answer: bool | None) -> None:
        """Answer a confirmation as the console's buttons do; a question no story expects is declined, then failed."""
        response = await self.http.post(f"/confirmations/{request['confirmation_id']}", json={"accept": bool(answer)})
        assert response.status_code == 200, response.text
        if answer is None:
            raise AssertionError(f"the turn asked for a confirmation no story expected: {request['message']}")

    async def conversation(self) -> list[dict[str, Any]]:
        """The operators' chat as the console loads it: `GET /conversations/{agent}`, oldest first."""
        response = await self.http.get(f"/conversations/{AGENT}", params={"limit": 500})
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages


def turn_ended(events: list[dict[str, Any]]) -> bool:
    """The turn runner stops showing typing when the agent's turn is over, whatever its outcome."""
    last = events[-1] if events else {}
    return last.get("type") == "conversation_typing" and last.get("wa_id") == AGENT and last.get("typing") is False


def is_confirmation(message: dict[str, Any]) -> bool:
    return (message.get("meta") or {}).get("kind") == "confirmation"


def roles(messages: Iterable[dict[str, Any]]) -> list[str]:
    return [message["role"] for message in messages]


def ids(messages: Iterable[dict[str, Any]]) -> list[int]:
    """The ids of conversation rows: the sidebar was sent exactly the rows stored when these are equal."""
    return [message["id"] for message in messages]


# --- The calendar, as the database holds it ------------------------------------------------------------


class Booking(NamedTuple):
    id: int
    wa_id: str
    date: str
    time_slot: str
    status: str


async def book(services: Services, bookings: Iterable[tuple[Person, str, str]]) -> dict[Person, int]:
    """Book each (person, day, slot) through the reservation service; each person's reservation id."""
    ids: dict[Person, int] = {}
    for person, day, slot in bookings:
        await services.customers.ensure(person.wa_id, person.name)
        result = await services.reservations.reserve(person.wa_id, day, slot)
        assert result.reservation is not None
        ids[person] = result.reservation.id
    return ids


def open_slots(services: Services, first: str, places: int) -> list[tuple[str, str]]:
    """(day, slot) for `places` reservations from `first` on, every open slot filled to the agents' capacity (5)."""
    taken: list[tuple[str, str]] = []
    day = date.fromisoformat(first)
    while len(taken) < places:
        taken += [(day.isoformat(), slot) for slot in slots_for(services.config, day) for _ in range(5)]
        day += timedelta(days=1)
    return taken[:places]


async def fill(services: Services, first: str, count: int) -> list[tuple[str, str]]:
    """`count` new customers booked from `first` on, in one batch a person confirmed (none of it counts against
    what an agent may apply without asking); their (day, slot) in order."""
    places = open_slots(services, first, count)
    requests = [{"wa_id": f"9665{index:08d}", "customer_name": f"Patient {index:03d}", "date": day, "time_slot": slot}
                for index, (day, slot) in enumerate(places, start=1)]
    report = await services.batch.reserve(requests, BatchOptions(confirmed=True))
    assert (report.status, report.counts()["ok"]) == ("applied", count), report.to_dict()["summary"]
    return places


async def calendar(services: Services) -> list[Booking]:
    """Every reservation, active or cancelled, by id."""
    async with services.db.unit_of_work() as session:
        rows = await session.scalars(select(Reservation).order_by(Reservation.id))
        return [Booking(r.id, r.wa_id, r.date.isoformat(), r.time_slot, r.status) for r in rows]


async def active_on(services: Services, day: str) -> dict[str, str]:
    """wa_id -> time slot of every active reservation of `day`."""
    return {b.wa_id: b.time_slot for b in await calendar(services) if b.date == day and b.status == "active"}


# --- How the scripted model reads the tools' text answers ------------------------------------------------

TOTALS = re.compile(r"^(\d+) reservation\(s\) and (\d+) customer\(s\) match\.")
# A row's cells are separated by "|", with or without spaces around it.
RESERVATION_LINE = re.compile(r"^#(\d+) ?\|.*$", re.MULTILINE)
CURSOR_LINE = re.compile(r"^next_cursor: (\S+)\s*$", re.MULTILINE)
BATCH_ID = re.compile(r"batch_id=([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
ARABIC = re.compile(r"[\u0600-\u06ff]")


def totals(text: str) -> tuple[int, int]:
    """(reservations, customers) of a listing's first line."""
    found = TOTALS.match(text)
    if found is None:
        raise LookupError(f"no totals line opens the answer: {first_line(text)!r}")
    return int(found[1]), int(found[2])


def reservation_lines(text: str) -> dict[int, str]:
    """Each reservation line of a listing, by reservation id (`#id|...`)."""
    return {int(found[1]): found[0] for found in RESERVATION_LINE.finditer(text)}


def line_naming(text: str, needle: str) -> str:
    """The first line that holds `needle` (a name, a number)."""
    for line in text.splitlines():
        if needle in line:
            return line
    raise LookupError(f"no line of the answer holds {needle!r}")


def reservation_id_of(text: str, name: str) -> int:
    """The reservation id on the reservation line that names `name`."""
    for reservation_id, line in reservation_lines(text).items():
        if name in line:
            return reservation_id
    raise LookupError(f"no reservation line names {name!r}")


def wa_id_on(line: str) -> str:
    found = re.search(r"(?<!\d)\d{11,15}(?!\d)", line)
    if found is None:
        raise LookupError(f"no WhatsApp number on the line {line!r}")
    return found[0]


def next_cursor(text: str) -> str | None:
    found = CURSOR_LINE.search(text)
    return found[1] if found else None


def batch_id(text: str) -> str:
    found = BATCH_ID.search(text)
    if found is None:
        raise LookupError(f"no batch_id in {first_line(text)!r}")
    return found[1]


def first_line(text: str) -> str:
    return text.split("\n", 1)[0]


def is_arabic(text: str) -> bool:
    return ARABIC.search(text) is not None
