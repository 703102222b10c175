"""JSON schemas as MCP clients read them: inline (no `$ref`/`$defs`, which several clients fail on),
without pydantic's titles, and without the `anyOf [X, null]` noise of optional arguments."""

from __future__ import annotations

from typing import Any

JsonSchema = dict[str, Any]
_DEFS = "#/$defs/"
# What an argument of these names means is the same in every tool: said once, in the server's instructions
# (`shared_arguments_note`), not in each of the 17 schemas that take it.
SHARED_ARGUMENTS = {
    "ar": "answer in Arabic",
    "hijri": "the dates given are Hijri (Umm al-Qura)",
    "dry_run": "preview, write nothing",
    "mode": "best_effort (default) or atomic (all or nothing)",
    "verbosity": "summary (default) or detailed (every item)",
    "notify": "tell each customer concerned on WhatsApp (only when the user asks)",
    "idempotency_key": "a repeat with the same key applies nothing twice",
    "confirmation_token": "from needs_confirmation, once the user said yes",
}
# Descriptions that only give a format; the note says it once.
FORMATS = ("YYYY-MM-DD or DD-MM-YYYY", "13:00 or 1:00 PM", "A time like 13:00 or 1:00 PM")
FORMATS_NOTE = "Dates are YYYY-MM-DD or DD-MM-YYYY; times 13:00 or 1:00 PM."


def input_schema(schema: JsonSchema) -> JsonSchema:
    """A tool's arguments: inline, untitled, optional arguments shown as their plain type, no extras."""
    cleaned: JsonSchema = _without_nulls(strip_titles(inline_refs(schema)))
    cleaned["properties"] = {name: _without_defaults(sub) for name, sub in cleaned.get("properties", {}).items()}
    cleaned["additionalProperties"] = False
    return cleaned


def _without_defaults(argument: JsonSchema) -> JsonSchema:
    """An argument keeps its default; the fields of an object inside it do not show theirs (an omitted field
    means the usual thing, and tools/list stays small)."""
    def strip(node: Any) -> Any:
        if isinstance(node, list):
            return [strip(item) for item in node]
        if not isinstance(node, dict):
            return node
        result = {k: strip(v) for k, v in node.items() if k != "properties"}
        if "properties" in node:
            result["properties"] = {name: {k: strip(v) for k, v in sub.items() if k != "default"}
                                    for name, sub in node["properties"].items()}
        return result
    stripped: JsonSchema = strip(argument)
    return stripped


def output_schema(schema: JsonSchema) -> JsonSchema:
    """A tool's structured result: inline and untitled. A top-level field that may be null is optional
    instead, and answers leave it out (see `toolkit.answer`), so clients that validate still agree."""
    cleaned: JsonSchema = _open_by_default(strip_titles(inline_refs(schema)))
    cleaned.pop("description", None)
    nullable = {name for name, sub in cleaned.get("properties", {}).items() if {"type": "null"} in sub.get("anyOf", [])}
    if "required" in cleaned:
        cleaned["required"] = [name for name in cleaned["required"] if name not in nullable]
    result: JsonSchema = _without_nulls(cleaned)
    return result


def inline_refs(schema: JsonSchema) -> JsonSchema:
    """Replace every local `$ref` with the definition it names and drop `$defs`."""
    definitions = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_DEFS):
                siblings = {k: v for k, v in node.items() if k != "$ref"}
                return resolve({**definitions[ref.removeprefix(_DEFS)], **siblings})
            return {k: resolve(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: JsonSchema = resolve(schema)
    return resolved


def _open_by_default(node: Any) -> Any:
    """Drop `additionalProperties: true`, which is what JSON Schema assumes anyway."""
    if isinstance(node, list):
        return [_open_by_default(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {k: _open_by_default(v) for k, v in node.items() if not (k == "additionalProperties" and v is True)}


def strip_titles(node: Any) -> Any:
    """Drop the `title` keyword everywhere (a property *named* title is kept)."""
    if isinstance(node, list):
        return [strip_titles(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {k: strip_titles(v) for k, v in node.items() if k not in ("title", "properties")}
    if "properties" in node:
        result["properties"] = {name: strip_titles(sub) for name, sub in node["properties"].items()}
    return result


def _without_nulls(node: Any) -> Any:
    """`anyOf [X, null]` with a null default becomes X: an omitted argument already means 'none'."""
    if isinstance(node, list):
        return [_without_nulls(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {k: _without_nulls(v) for k, v in node.items()}
    options = result.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        result.pop("anyOf")
        result.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
    if "default" in result and result["default"] is None:
        result.pop("default")
    return result


def without_shared(node: Any) -> Any:
    """The schema without the descriptions `shared_arguments_note` gives once: of the shared arguments, at
    any depth, and of the formats (a description that adds to a format keeps what it adds)."""
    if isinstance(node, list):
        return [without_shared(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {k: without_shared(v) for k, v in node.items()}
    for name, sub in result.get("properties", {}).items():
        text = sub.get("description")
        if isinstance(text, str):
            for format_ in FORMATS:
                text = text.removeprefix(format_).removeprefix("; ").strip()
            if name in SHARED_ARGUMENTS or not text:
                sub.pop("description")
            else:
                sub["description"] = text[0].upper() + text[1:] if text[:1].islower() else text
    return result


def shared_arguments_note(schemas: list[JsonSchema]) -> str:
    """What the shared arguments these schemas take mean, and the formats, in one paragraph."""
    taken = {name for schema in schemas for name in _property_names(schema)}
    meanings = "; ".join(f"{name}: {text}" for name, text in SHARED_ARGUMENTS.items() if name in taken)
    return f"{FORMATS_NOTE} Shared arguments: {meanings}." if meanings else FORMATS_NOTE


def _property_names(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(_property_names(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    names = set(node.get("properties", {}))
    return names.union(*(_property_names(v) for v in node.values()))


def described(node: Any, notes: dict[str, str]) -> Any:
    """The schema with the note for every property named in `notes`, at any depth, leading its description."""
    if isinstance(node, list):
        return [described(item, notes) for item in node]
    if not isinstance(node, dict):
        return node
    result = {k: described(v, notes) for k, v in node.items()}
    for name, sub in result.get("properties", {}).items():
        if name in notes:
            sub["description"] = "; ".join(filter(None, [notes[name], sub.get("description")]))
    return result
