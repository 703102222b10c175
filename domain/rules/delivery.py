"""How a message's delivery state moves as WhatsApp reports it: forward only, and failed always wins."""

from __future__ import annotations

from enum import StrEnum


class DeliveryStatus(StrEnum):
    """How far WhatsApp has taken a message sent out, in the order it goes (failed can come at any point)."""

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


# WhatsApp reports a sent message's progress; a late report never moves it back (failed always wins).
DELIVERY_RANK = {DeliveryStatus.PENDING: 0, DeliveryStatus.SENT: 1, DeliveryStatus.DELIVERED: 2, DeliveryStatus.READ: 3}
DELIVERY_STATES = frozenset(s.value for s in DeliveryStatus)


def delivery_moves_forward(current: DeliveryStatus | None, new: DeliveryStatus) -> bool:
    if new == DeliveryStatus.FAILED or current is None:
        return True
    return DELIVERY_RANK.get(new, -1) > DELIVERY_RANK.get(current, -1)
