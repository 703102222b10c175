"""The console's JavaScript reads only the shapes the server declares: every property read from a variable
annotated with a shape (`/** @param {SnapshotDay} day */`, `(/** @type {SlotBooking} */ r) =>`) is a property of
that shape's JSON schema, and every annotation names a declared shape."""

from __future__ import annotations

import re
from typing import Any

from pydantic import TypeAdapter
from chat_bridge.console import CONSOLE_SHAPES, STATIC_DIR
from chat_bridge.events import EVENTS

ANNOTATION = re.compile(r"@(?:param|type)\s*\{(\w+)(?:\[\])?\}\s*(?:\*/\s*)?(?:(?:const|let|var)\s+)?(\w+)")


def bindings(source: str) -> dict[str, set[str]]:
    """Each annotated variable of a script and the shapes it is annotated with."""
    found: dict[str, set[str]] = {}
    for shape, name in ANNOTATION.findall(source):
        found.setdefault(name, set()).add(shape)
    return found


def reads(source: str, name: str) -> set[str]:
    """The properties read from `name` (`name.x`, `name?.x`)."""
    return set(re.findall(rf"(?<![\w.]){name}\??\.(\w+)", source))


def properties(shape: str) -> set[str]:
    """The properties of a declared shape (a pydantic model or a TypedDict), by its JSON schema."""
    schema: dict[str, Any] = TypeAdapter(CONSOLE_SHAPES[shape]).json_schema()
    return set(schema["properties"])


def scripts() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(STATIC_DIR.glob("*.js"))}


def test_every_shape_the_console_names_is_declared_and_each_variable_has_one() -> None:
    named = {f"{script}: {name}": shapes for script, source in scripts().items()
             for name, shapes in bindings(source).items()}
    assert named, "no script annotates what it reads"
    assert {k: v for k, v in named.items() if len(v) != 1 or not v <= set(CONSOLE_SHAPES)} == {}


def test_every_property_the_console_reads_is_in_its_shapes_schema() -> None:
    unknown = {}
    for script, source in scripts().items():
        for name, (shape,) in bindings(source).items():
            if missing := reads(source, name) - properties(shape):
                unknown[f"{script}: {name} ({shape})"] = sorted(missing)
    assert unknown == {}


def test_the_calendar_strip_reads_the_snapshot_through_its_shapes() -> None:
    source = (STATIC_DIR / "calendar.js").read_text()
    assert {name: shapes for name, shapes in bindings(source).items()} == {
        "s": {"CalendarSnapshot"}, "day": {"SnapshotDay"}, "slot": {"SnapshotSlot"}, "booking": {"SlotBooking"}}
    assert reads(source, "slot") >= {"time_slot", "booked", "capacity", "full", "reservations", "time_label"}


def test_the_dashboard_reads_its_figures_through_their_shapes() -> None:
    source = (STATIC_DIR / "dashboard.js").read_text()
    assert bindings(source) == {"data": {"Dashboard"}, "total": {"DashboardTotals"}, "day": {"DashboardDay"},
                                "slot": {"BusiestSlot"}}
    assert reads(source, "total") == {"bookings", "cancelled", "cancelled_share", "no_shows", "no_shows_by_type",
                                      "late_cancelled"}


def test_the_console_handles_every_declared_event_and_reads_each_through_its_shape() -> None:
    source = (STATIC_DIR / "app.js").read_text()
    handlers = source[source.index("const HANDLERS = {"):source.index("\n};", source.index("const HANDLERS = {"))]
    handled = set(re.findall(r"^  (\w+): ", handlers, re.MULTILINE))
    declared = set(EVENTS.json_schema()["discriminator"]["mapping"])
    assert handled | {t for t in declared if t.startswith("reservation_")} == declared
    assert 'event.type.startsWith("reservation_")) return calendarChanged(event)' in source
    assert {name: shapes for name, shapes in bindings(source).items() if name in {
        "config", "posted", "answering", "failure", "asked", "resolved", "change", "booking"}} == {
        "config": {"ConsoleConfig"}, "posted": {"NewMessageEvent"}, "answering": {"TypingEvent"},
        "failure": {"AgentErrorEvent"}, "asked": {"ConfirmationRequestEvent"},
        "resolved": {"ConfirmationResolvedEvent"}, "change": {"ReservationEvent"}, "booking": {"ReservationView"}}
    assert reads(source, "config") == {"today", "token_required", "accounts", "timezone", "system_agent"}


def test_a_property_the_shape_lacks_is_caught() -> None:
    source = "/** @param {SnapshotSlot} slot */ function f(slot) { return slot.places_left; }"
    assert reads(source, "slot") - properties("SnapshotSlot") == {"places_left"}
