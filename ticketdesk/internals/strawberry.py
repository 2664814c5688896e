"""strawberry's graphql-transport-ws handler and its connection_init message, `execute_single`'s request data,
its HTTP error (from its dependency cross-web), extending a field after it is declared, and the graphql-core
schema behind a strawberry Schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cross_web import HTTPException as HTTPException
from graphql import GraphQLSchema
from strawberry import Schema
from strawberry.extensions.field_extension import FieldExtension
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler as BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage as ConnectionInitMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler as BaseGraphQLWSHandler
from strawberry.types.field import StrawberryField

__all__ = [
    "BaseGraphQLTransportWSHandler",
    "BaseGraphQLWSHandler",
    "ConnectionInitMessage",
    "HTTPException",
    "add_field_extension",
    "graphql_schema_of",
    "request_data_of",
]


def request_data_of(execute_single_kwargs: Mapping[str, Any]) -> GraphQLRequestData:
    """The parsed request that strawberry's `execute_single` receives."""
    data: GraphQLRequestData = execute_single_kwargs["request_data"]
    return data


def add_field_extension(field: StrawberryField, extension: FieldExtension) -> None:
    """Give an already declared field one more extension (read when the schema is built)."""
    field.extensions.append(extension)


def graphql_schema_of(schema: Schema) -> GraphQLSchema:
    """The graphql-core schema strawberry built (strawberry keeps it in `_schema`)."""
    return schema._schema
