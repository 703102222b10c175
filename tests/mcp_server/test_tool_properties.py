"""Every system tool, fed random arguments drawn from its published input schema and from just outside it:
each call is a valid answer or a clear tool error, never an internal error, never a half-written change.

Runs on SQLite and PostgreSQL with a bounded number of examples (Hypothesis). The strategies are read
from the schemas as published (`from_schema`), so a bound the schema states is the bound fed and crossed.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.server import MCPServer
from sqlalchemy import select

from domain.services import Services
from domain.storage.models import Reservation
from mcp_scenario import SUNDAY, WEDNESDAY, Seed
from mcp_server.schemas import JsonSchema

EXAMPLES = 200
WRITES = ("applied",)
Call = tuple[str, dict[str, Any]]
# Values a model would plausibly send for a field (by the field's name), mixed with random text, so that
# some calls reach real work and some do not.
PLAUSIBLE = {"date": ["2026-12-02", "2026-12-06", "06-12-2026", "2026-12-04", "2027-01-10", "2026-11-01"],
             "time": ["13:00", "1:00 PM", "11:00", "15:00", "09:00"],
             "wa_id": ["966500000001", "+966 50 000 0003", "966500000019", "12125550123"],
             "query": ["Mohammed", "فاطمه", "9665", "a"], "": ["reservations", "summary", "x"]}


def plausible(name: str) -> list[str]:
    return next((values for key, values in PLAUSIBLE.items() if key and key in name), PLAUSIBLE[""])


def from_schema(schema: JsonSchema, name: str = "") -> st.SearchStrategy[Any]:
    """Values valid for `schema` (the keywords the tools' schemas use); `name` is the field's, for the
    plausible values mixed in."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([from_schema(option, name) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "object":
        return _object(schema)
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), name), max_size=min(schema.get("maxItems", 4), 4))
    if kind == "integer":
        low, high = schema.get("minimum", -10**6), schema.get("maximum", 10**6)
        return st.integers(low, high) | st.integers(max(low, 0), min(high, 40))
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        longest = schema.get("maxLength", 40)
        some = st.sampled_from([v for v in plausible(name) if len(v) <= longest] or [""])
        return st.one_of(some, some, some, st.text(max_size=min(longest, 40)))
    return st.none() | st.integers() | st.text(max_size=10)


def _object(schema: JsonSchema) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, JsonSchema] = schema.get("properties", {})
    if not properties:
        closed = "properties" in schema or schema.get("additionalProperties") is False
        return st.just({}) if closed else st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3)
    required = set(schema.get("required", ()))
    return st.fixed_dictionaries({k: from_schema(v, k) for k, v in properties.items() if k in required},
                                 optional={k: from_schema(v, k) for k, v in properties.items() if k not in required})


def outside(schema: JsonSchema) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments one step outside the schema: a bound passed, a wrong type, an unknown name, a huge string."""
    properties: dict[str, JsonSchema] = schema.get("properties", {})
    base = from_schema(schema)
    if not properties:
        return base.map(lambda args: {**args, "unexpected": 1})

    def broken(name: str) -> st.SearchStrategy[Any]:
        spec = properties[name]
        values: list[Any] = [None, [], {"nested": True}, "x" * 100_000, 10**30, -1, True, "٢٠٢٦-١٢-٠٦", "\x00"]
        if "maximum" in spec:
            values.append(spec["maximum"] + 1)
        if "minimum" in spec:
            values.append(spec["minimum"] - 1)
        if "maxLength" in spec:
            values.append("a" * (spec["maxLength"] + 1))
        return st.sampled_from(values)

    return st.builds(lambda args, name, value: {**args, name: value},
                     base, st.sampled_from(sorted(properties)), st.sampled_from(sorted(properties)).flatmap(broken)) \
        | base.map(lambda args: {**args, "unexpected": 1})


def calls(tools: dict[str, JsonSchema], name: str) -> st.SearchStrategy[Call]:
    """Calls of one tool: mostly valid arguments, some just outside its schema."""
    schema = tools[name]
    valid = from_schema(schema)
    return st.tuples(st.just(name), st.one_of(valid, valid, valid, outside(schema)))


async def schemas(server: MCPServer) -> dict[str, JsonSchema]:
    async with Client(server) as client:
        return {tool.name: tool.input_schema for tool in (await client.list_tools()).tools}


async def snapshot(services: Services) -> list[tuple[Any, ...]]:
    async with services.db.unit_of_work() as session:
        rows = await session.scalars(select(Reservation).order_by(Reservation.id))
        return [(r.id, r.wa_id, r.date, r.time_slot, r.type, r.status) for r in rows]


def check_calendar(rows: list[tuple[Any, ...]]) -> None:
    """The calendar's rules hold: at most 5 active per slot (the agents' capacity), one upcoming per customer."""
    per_slot: dict[tuple[Any, Any], int] = {}
    per_customer: dict[str, int] = {}
    for _, wa_id, day, slot, _, status in rows:
        if status == "active":
            per_slot[(day, slot)] = per_slot.get((day, slot), 0) + 1
            per_customer[wa_id] = per_customer.get(wa_id, 0) + 1
    assert max(per_slot.values(), default=0) <= 5, per_slot
    assert max(per_customer.values(), default=0) <= 1, per_customer


@pytest.fixture
async def tool_schemas(system_server: MCPServer, seed: Seed) -> dict[str, JsonSchema]:
    await seed([WEDNESDAY, SUNDAY], 20)
    return await schemas(system_server)


def drawn(tools: dict[str, JsonSchema]) -> list[Call]:
    """EXAMPLES calls drawn by Hypothesis, the same share for every tool (derandomised: the same ones every
    run). They are collected first and run afterwards, on the test's own event loop, where the database
    connections live."""
    examples: list[Call] = []
    for name in sorted(tools):
        @settings(max_examples=max(1, EXAMPLES // len(tools)), deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(call=calls(tools, name))
        def collect(call: Call) -> None:
            examples.append(call)

        collect()
    return examples


async def test_every_tool_answers_any_argument_clearly_and_never_half_writes(
    system_server: MCPServer, services: Services, tool_schemas: dict[str, JsonSchema],
    caplog: pytest.LogCaptureFixture,
) -> None:
    examples = drawn(tool_schemas)
    assert {name for name, _ in examples} == set(tool_schemas)  # every tool was fed
    for name, arguments in examples:
        before = await snapshot(services)
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            async with Client(system_server) as client:
                result = await client.call_tool(name, arguments)
        text = "".join(getattr(block, "text", "") for block in result.content)
        shown = (name, repr(arguments)[:300], text[:300])
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], shown
        if result.is_error:
            assert text != f"Error executing tool {name}" and len(text) < 5_000, shown
        else:
            assert isinstance(result.structured_content, dict) and text, shown
        after = await snapshot(services)
        check_calendar(after)
        if result.is_error or (result.structured_content or {}).get("status") not in WRITES:
            assert after == before, shown
