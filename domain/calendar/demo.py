"""A realistic, deterministic demo calendar: customers with Arabic and English names and their bookings."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from domain.clock import Clock, system_clock
from domain.config import BookingSource, ClinicConfig
from domain.storage.database import Database
from domain.errors import DomainError
from domain.storage.models import ConversationMessage, Customer
from domain.rules.planning import RuleContext, plan_reserve
from domain.rules.schedule import open_slots
from domain.storage.store import ensure_customers, load_state, load_vacations, write_changes

ARABIC_FIRST = ["محمد", "أحمد", "عبدالله", "فهد", "خالد", "سعود", "ناصر", "فيصل", "تركي", "سلطان", "عمر", "يوسف",
                "إبراهيم", "عبدالرحمن", "مشعل", "نورة", "فاطمة", "سارة", "ريم", "هيفاء", "لطيفة", "منيرة", "أمل",
                "هند", "مريم", "عائشة", "جواهر", "الجوهرة", "دانة", "لمى"]
ARABIC_LAST = ["العتيبي", "القحطاني", "الشهري", "الغامدي", "الزهراني", "الدوسري", "المطيري", "الحربي",
               "السبيعي", "العنزي", "الشمري", "التميمي", "السهلي", "الرشيدي", "البقمي", "الجهني"]
ENGLISH_FIRST = ["Mohammed", "Ahmed", "Abdullah", "Omar", "Yusuf", "Khalid", "Ali", "Hassan", "Sara", "Fatima",
                 "Aisha", "Layla", "Noura", "Mariam", "John", "Emily", "David", "Sophia", "James", "Olivia",
                 "Daniel", "Grace", "Ryan", "Hannah"]
ENGLISH_LAST = ["Alotaibi", "Alqahtani", "Alshehri", "Alghamdi", "Hassan", "Khan", "Smith", "Johnson", "Brown",
                "Williams", "Rahman", "Siddiqui", "Haddad", "Nasser", "Saleh", "Taylor"]
GREETINGS = ["السلام عليكم، أبغى أحجز موعد", "Hi, can I book an appointment?", "متى أقرب موعد متاح؟",
             "Is Saturday evening available?", "شكرًا لكم", "Thanks!"]


def demo_wa_id(rng: random.Random) -> str:
    return "9665" + str(rng.choice([0, 3, 4, 5, 6, 8, 9])) + "".join(str(rng.randint(0, 9)) for _ in range(7))


def demo_name(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return f"{rng.choice(ARABIC_FIRST)} {rng.choice(ARABIC_LAST)}"
    return f"{rng.choice(ENGLISH_FIRST)} {rng.choice(ENGLISH_LAST)}"


async def is_empty(db: Database) -> bool:
    async with db.unit_of_work() as session:
        return (await session.scalar(select(func.count()).select_from(Customer))) == 0


async def seed_demo(
    db: Database, config: ClinicConfig, *, customers: int = 300, days: int = 60, seed: int = 2026,
    clock: Clock = system_clock,
) -> dict[str, int]:
    """Fill the calendar; the same seed and day give the same data. Returns what was created."""
    rng = random.Random(seed)
    people: dict[str, str | None] = {}
    while len(people) < customers:
        people[demo_wa_id(rng)] = demo_name(rng)
    async with db.unit_of_work() as session:
        ctx = RuleContext(config, clock(), await load_vacations(session), BookingSource.OPERATOR)
        dates = [ctx.today + timedelta(days=d) for d in range(days)]
        state = await load_state(session, ctx.today, people, dates)
        changes = []
        for wa_id in people:
            day = rng.choice(dates)
            slots = open_slots(config, day, ctx.vacations, ctx.now)
            if not slots or rng.random() < 0.2:
                continue
            try:
                changes.append(plan_reserve(ctx, state, wa_id, day, rng.choice(slots), rng.choice(sorted(config.type_ids()))))
            except DomainError:
                continue
        await ensure_customers(session, people)
        await write_changes(session, changes)
        session.add_all(_messages(rng, list(people)[:60], ctx.now))
    return {"customers": len(people), "reservations": len(changes)}


def _messages(rng: random.Random, wa_ids: list[str], now: object) -> list[ConversationMessage]:
    assert hasattr(now, "tzinfo")
    rows = []
    for index, wa_id in enumerate(wa_ids):
        moment = now - timedelta(hours=index * 3 + 1)  # type: ignore[operator]
        rows.append(ConversationMessage(wa_id=wa_id, role="user", text=rng.choice(GREETINGS), timestamp=moment))
        rows.append(ConversationMessage(wa_id=wa_id, role="assistant", timestamp=moment + timedelta(minutes=1),
                                        text="أهلًا بك! كيف أقدر أساعدك؟ / Welcome! How can I help?"))
    return rows
