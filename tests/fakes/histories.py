"""Generated customer histories, written as rows: for the recall and dashboard tests' brute-force checks."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from domain.config import ClinicConfig
from domain.storage.models import Customer, Reservation
from domain.rules.planning import ACTIVE, CANCELLED, ReservationStatus
from domain.rules.schedule import is_upcoming
from domain.services import Services
from tests.conftest import NOW

SLOTS = ("11:00", "13:00", "15:00")


@dataclass
class History:
    wa_id: str
    name: str | None
    rows: list[tuple[date, str, int, ReservationStatus]]  # date, time_slot, type, status

    def visits(self, config: ClinicConfig, types: set[int] | None) -> list[date]:
        return [d for d, s, t, status in self.rows if status == ACTIVE and not is_upcoming(config, d, s, NOW)
                and (types is None or t in types)]

    def figures(self, config: ClinicConfig, types: set[int] | None = None) -> dict[str, Any]:
        counted = [r for r in self.rows if types is None or r[2] in types]
        visits = self.visits(config, types)
        ahead = [d for d, s, _, status in counted if status == ACTIVE and is_upcoming(config, d, s, NOW)]
        return {"wa_id": self.wa_id, "name": self.name, "last_visit": max(visits, default=None),
                "visits": len(visits), "cancellations": sum(1 for r in counted if r[3] == CANCELLED),
                "next_booking": min(ahead, default=None)}


async def generated(services: Services, count: int = 90, seed: int = 7) -> list[History]:
    """Customers with 0 to 6 reservations each between January 2026 and February 2027, some cancelled, at
    most one upcoming active each (the calendar's rule), written as rows."""
    rng = random.Random(seed)
    histories = []
    for n in range(count):
        rows = []
        for _ in range(rng.randint(0, 6)):
            day = date(2026, 1, 1) + timedelta(days=rng.randint(0, 420))
            rows.append((day, rng.choice(SLOTS), rng.randint(0, 1), rng.choice([ACTIVE, ACTIVE, CANCELLED])))
        future = [r for r in rows if r[3] == ACTIVE and is_upcoming(services.config, r[0], r[1], NOW)]
        rows = [r for r in rows if r not in future[1:]]
        histories.append(History(f"9665088{n:05d}", None if n % 11 == 0 else f"Patient {n:03d}", rows))
    async with services.db.unit_of_work() as session:
        session.add_all([Customer(wa_id=h.wa_id, name=h.name) for h in histories])
        await session.flush()
        session.add_all([Reservation(wa_id=h.wa_id, date=d, time_slot=s, type=t, status=status)
                         for h in histories for d, s, t, status in h.rows])
    return histories
