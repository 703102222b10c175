"""Keeping default answers small: long lists and maps are cut, and the answer says what was cut."""

from __future__ import annotations

import json
from typing import Any

ANSWER_BUDGET = 5_000  # bytes of structured content; with the one-line text an answer stays under 6 KB
CURSOR_ROOM = 400  # bytes kept for a next_cursor and the note saying a page was shortened
CAPS = (50, 20, 10, 5, 2, 1, 0)
MAP_MIN = 16  # a dict with more keys than this is data (a day -> count map), not a record


def size(data: Any) -> int:
    """Bytes of `data` as compact UTF-8 JSON, as it travels."""
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode())


def fit(data: dict[str, Any], budget: int = ANSWER_BUDGET) -> dict[str, Any]:
    """`data` unchanged within the budget; otherwise every long list and map cut to the largest cap
    that fits, with `truncated` naming each cut (path: original length)."""
    if size(data) <= budget:
        return data
    trimmed: dict[str, Any] = {}
    for cap in CAPS:
        cuts: dict[str, int] = {}
        trimmed = _cut(data, cap, "", cuts)
        trimmed["truncated"] = cuts
        if size(trimmed) <= budget:
            break
    return trimmed


def _cut(node: Any, cap: int, path: str, cuts: dict[str, int]) -> Any:
    """Cut `node`; a table's `columns` and each of its rows (a list inside a list) stay whole."""
    if isinstance(node, list):
        if path.endswith("columns"):
            return node
        if len(node) > cap:
            cuts[path] = cuts.get(path, 0) + len(node)
        return [item if isinstance(item, list) else _cut(item, cap, path + "[]", cuts) for item in node[:cap]]
    if not isinstance(node, dict):
        return node
    keys = list(node)
    if len(keys) > MAP_MIN and len(keys) > cap:
        cuts[path] = cuts.get(path, 0) + len(keys)
        keys = keys[:cap]
    return {k: _cut(node[k], cap, f"{path}.{k}" if path else k, cuts) for k in keys}


def rows_within(data: dict[str, Any], budget: int = ANSWER_BUDGET) -> int:
    """The most rows per section (a table's rows or a plain list) that keep `data` within `budget`,
    with room for a cursor; at least 1."""
    sections = [rows for rows in (_rows(value) for value in data.values()) if rows]
    # The answer with no row, then each row's own JSON added in turn (and a comma after the first): the same
    # bytes as the whole written anew for each count, each row written once.
    used = size({key: _head(value, 0) for key, value in data.items()}) + CURSOR_ROOM
    sizes = [[size(row) for row in rows] for rows in sections]
    count = 0
    for count in range(max([len(rows) for rows in sections] + [1])):
        used += sum(section[count] + (count > 0) for section in sizes if count < len(section))
        if used > budget:
            break
    else:
        count += 1
    return max(1, count)


def _rows(value: Any) -> list[Any]:
    if isinstance(value, dict) and "columns" in value and "rows" in value:
        return list(value["rows"])
    return value if isinstance(value, list) else []


def _head(value: Any, count: int) -> Any:
    if isinstance(value, dict) and "columns" in value and "rows" in value:
        return {**value, "rows": value["rows"][:count]}
    return value[:count] if isinstance(value, list) else value
