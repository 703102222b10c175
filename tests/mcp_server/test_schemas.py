"""Schemas as clients read them: inline, untitled, and the optional arguments plain."""

from mcp_server.schemas import described, inline_refs, input_schema, output_schema

ITEM = {"title": "Item", "type": "object", "properties": {"title": {"type": "string", "title": "Title"}}}
NESTED = {
    "$defs": {"Item": ITEM},
    "properties": {"item": {"$ref": "#/$defs/Item", "description": "one item"}},
    "title": "Args",
    "type": "object",
}


def test_inline_refs_replaces_every_ref_with_its_definition() -> None:
    inlined = inline_refs(NESTED)
    assert "$defs" not in inlined
    assert inlined["properties"]["item"]["description"] == "one item"
    assert inlined["properties"]["item"]["type"] == "object"


def test_input_schema_keeps_a_property_named_title_but_drops_title_keywords() -> None:
    schema = input_schema(NESTED)
    assert "title" not in schema
    assert schema["properties"]["item"]["properties"]["title"] == {"type": "string"}


def test_input_schema_refuses_unknown_arguments() -> None:
    assert input_schema(NESTED)["additionalProperties"] is False


def test_input_schema_shows_an_optional_argument_as_its_plain_type() -> None:
    schema = input_schema({"properties": {"x": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}}})
    assert schema["properties"]["x"] == {"type": "string"}


def test_output_schema_makes_a_nullable_field_optional() -> None:
    nullable = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    schema = output_schema({"properties": {"a": nullable, "b": {"type": "string"}}, "required": ["a", "b"]})
    assert schema["required"] == ["b"]
    assert schema["properties"]["a"] == {"type": "string"}


def test_input_schema_keeps_an_arguments_default_but_not_those_of_the_fields_inside_it() -> None:
    item = {"type": "object", "properties": {"hijri": {"type": "boolean", "default": False}}}
    schema = input_schema({"properties": {"ar": {"type": "boolean", "default": False},
                                          "requests": {"type": "array", "items": item}}})
    assert schema["properties"]["ar"]["default"] is False
    assert schema["properties"]["requests"]["items"]["properties"]["hijri"] == {"type": "boolean"}


def test_described_puts_the_note_first_in_every_property_so_named() -> None:
    schema = {"properties": {"type": {"type": "integer"},
                             "items": {"type": "object", "properties": {"type": {"description": "Alias kind"}}}}}
    noted = described(schema, {"type": "0 Check-up"})
    assert noted["properties"]["type"]["description"] == "0 Check-up"
    assert noted["properties"]["items"]["properties"]["type"]["description"] == "0 Check-up; Alias kind"
