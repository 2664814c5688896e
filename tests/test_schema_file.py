"""schema.graphql is the code's schema, describes everything, and holds every name of the contract."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType, build_schema

from ticketdesk.schema import export_sdl

ROOT = Path(__file__).resolve().parent.parent
API_MD = ROOT.parent / "shared" / "design" / "API.md"


def test_schema_file_is_fresh() -> None:
    assert (ROOT / "schema.graphql").read_text() == export_sdl(), (
        "schema.graphql is stale: run `ticketdesk export-schema > schema.graphql`"
    )


def test_schema_every_type_and_field_has_a_description() -> None:
    schema = build_schema(export_sdl())
    missing: list[str] = []
    for name, kind in schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Boolean", "ID", "Float"}:
            continue
        if not kind.description:  # type: ignore[union-attr]
            missing.append(name)
        if isinstance(kind, GraphQLObjectType | GraphQLInputObjectType):
            missing += [f"{name}.{field}" for field, f in kind.fields.items() if not f.description]
    assert missing == []


def test_schema_holds_the_contracts_names() -> None:
    sdl = export_sdl()
    schema = build_schema(sdl)
    if not API_MD.exists():
        pytest.skip(f"the contract is not beside this checkout ({API_MD}); CI lays shared/ there")
    contract = API_MD.read_text()
    # Comments dropped first: a comment's prose ("every type ...") must not read as a declaration.
    block = re.sub(r"#.*", "", "\n".join(re.findall(r"```graphql\n(.*?)```", contract, re.S)))
    declared = set(re.findall(r"(?:type|enum)\s+(\w+)", block))
    assert declared, "the contract's type blocks were not found"
    for name in declared:
        assert name in schema.type_map, name
    for type_name, fields in re.findall(r"type\s+(\w+)\s*\{(.*?)\}", block, re.S):
        kind = schema.type_map[type_name]
        assert isinstance(kind, GraphQLObjectType)
        for field in re.findall(r"(\w+)(?:\([^)]*\))?\s*:", fields):
            assert field in kind.fields, f"{type_name}.{field}"
    for enum_name, values in re.findall(r"enum\s+(\w+)\s*\{(.*?)\}", block, re.S):
        kind = schema.type_map[enum_name]
        assert isinstance(kind, GraphQLEnumType)
        assert set(values.split()) == set(kind.values), enum_name
    operations = set(re.findall(r"^(\w+)\(", block, re.M)) | {"viewer", "agents"}
    roots = {**schema.query_type.fields, **schema.mutation_type.fields}  # type: ignore[union-attr]
    assert sorted(operations - set(roots) - {"ticketEvents", "ticketStatusChanged"}) == []
