"""Strawberry types, inputs, payloads and the assembled schema."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.file_uploads import Upload
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from ticketdesk.ratelimit import RateLimits
from ticketdesk.schema import enums as enums
from ticketdesk.schema.documents import CachedDocuments
from ticketdesk.schema.gate import ungated_fields
from ticketdesk.schema.introspection import NoIntrospectionRule
from ticketdesk.schema.limits import Limits, QueryLimits
from ticketdesk.schema.masking import masking, unexpected
from ticketdesk.schema.mutation import Mutation
from ticketdesk.schema.query import Query
from ticketdesk.schema.subscription import Subscription

# strawberry's Upload with a description that says how to send one.
UPLOAD = strawberry.scalar(
    name="Upload",
    description="A file, sent as multipart/form-data per the GraphQL multipart request spec: the fields `operations` "
    "(this request as JSON, the file's variable null) and `map` (which part goes where), then the file. Only "
    "uploadAttachment takes one.",
    serialize=lambda value: value,
    parse_value=lambda value: value,
)


class TicketdeskSchema(strawberry.Schema):
    """strawberry's Schema, logging only unexpected errors (in full); a refused token is not a server fault."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        super().process_errors([error for error in errors if unexpected(error)], execution_context)


def build_schema(
    *,
    development: bool = True,
    introspection: bool = True,
    limits: Limits | None = None,
    rates: RateLimits | None = None,
) -> strawberry.Schema:
    """The schema; outside development unexpected errors are masked, introspection can be off, `limits` refuse
    documents that ask too much and `rates` principals that ask too often, before anything runs."""
    if ungated := ungated_fields(Query, Mutation, Subscription):
        raise LookupError(f"root fields without the policy's gate (decorate their type with @gated): {ungated}")
    # Factories, not instances: strawberry builds a fresh extension per operation.
    extensions: list[Callable[[], SchemaExtension]] = []
    if not development:
        extensions.append(masking)
    if not introspection:
        extensions.append(lambda: AddValidationRules([NoIntrospectionRule]))
    if limits is not None:
        extensions.append(lambda: QueryLimits(limits, rates))
        # After QueryLimits: its checks run on every request, the document cached or not.
        extensions.append(CachedDocuments.factory(limits.tokens))
    return TicketdeskSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not introspection),
        scalar_overrides={Upload: UPLOAD},
    )


def export_sdl() -> str:
    """The SDL that `ticketdesk export-schema` prints and `schema.graphql` holds."""
    return build_schema().as_str() + "\n"
