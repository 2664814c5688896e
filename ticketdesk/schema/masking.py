"""Which errors a client may read: ticketdesk's own and GraphQL's; anything else is a fault, masked outside
development and logged in full."""

from __future__ import annotations

from graphql import GraphQLError, GraphQLFormattedError
from strawberry import Schema
from strawberry.extensions import MaskErrors

from ticketdesk.errors import RequestError

MASKED_MESSAGE = "Internal server error."


def unexpected(error: GraphQLError) -> bool:
    """Whether an error escaped by accident: our RequestErrors and GraphQL's own validation are expected."""
    original = error.original_error
    return original is not None and not isinstance(original, RequestError | GraphQLError)


def masking() -> MaskErrors:
    """The extension that masks unexpected errors in what strawberry sends."""
    return MaskErrors(should_mask_error=unexpected, error_message=MASKED_MESSAGE)


def client_errors(schema: Schema, errors: list[GraphQLError], *, development: bool) -> list[GraphQLFormattedError]:
    """A result's errors as strawberry would send them, for results ticketdesk sends itself: the schema logs the
    unexpected ones and, outside development, the client reads only that something failed."""
    schema.process_errors(errors)
    if not development:
        mask = masking()
        errors = [mask.anonymise_error(error) if unexpected(error) else error for error in errors]
    return [error.formatted for error in errors]
