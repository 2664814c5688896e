"""Strawberry types, inputs, payloads and the assembled schema."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, MaskErrors, SchemaExtension
from strawberry.schema.config import StrawberryConfig

from ticketdesk.errors import RequestError
from ticketdesk.schema import enums as enums
from ticketdesk.schema.mutation import Mutation
from ticketdesk.schema.query import Query


def _should_mask(error: GraphQLError) -> bool:
    """Mask only what escaped by accident: our RequestErrors and GraphQL's own validation stay readable."""
    original = error.original_error
    return original is not None and not isinstance(original, RequestError | GraphQLError)


def build_schema(*, development: bool = True, introspection: bool = True) -> strawberry.Schema:
    """The schema; outside development unexpected errors are masked, and introspection can be off."""
    extensions: list[type[SchemaExtension] | SchemaExtension] = []
    if not development:
        extensions.append(MaskErrors(should_mask_error=_should_mask, error_message="Internal server error."))
    if not introspection:
        extensions.append(AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not introspection),
    )


def export_sdl() -> str:
    """The SDL that `ticketdesk export-schema` prints and `schema.graphql` holds."""
    return build_schema().as_str() + "\n"
