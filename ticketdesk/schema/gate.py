"""What every root field gets without writing it: the policy's gate, and for mutations refusals as payloads.

`guard(query=..., mutation=..., subscription=...)` gives each root field a `Gate` for its operation in
ticketdesk.policy.PERMISSIONS; a root field the table does not name stops the schema from being built,
so no operation can exist without a policy line. Each mutation field also gets `Refusals`, which turns a
UserError raised by its resolver (after the transaction rolled back) into its payload's `errors`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any

from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension, SyncExtensionResolver
from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import get_object_definition
from strawberry.types.field import StrawberryField

from ticketdesk import errors
from ticketdesk.context import Info
from ticketdesk.internals import add_field_extension
from ticketdesk.policy import PERMISSIONS
from ticketdesk.schema.payloads import UserError


class Gate(FieldExtension):
    """Admits the caller to one operation as ticketdesk.policy decides (UNAUTHENTICATED / FORBIDDEN otherwise)."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.streams = False

    def apply(self, field: StrawberryField) -> None:
        self.streams = field.is_subscription

    def resolve(self, next_: SyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        info.context.authorize(self.operation)
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        if self.streams:
            return self._stream(next_, source, info, kwargs)
        info.context.authorize(self.operation)
        return await next_(source, info, **kwargs)

    async def _stream(
        self, next_: Callable[..., Any], source: Any, info: Info, kwargs: dict[str, Any]
    ) -> AsyncGenerator[Any, None]:
        # Checked on the first read, as a resolver error: the client gets `next` with the error, then
        # `complete`, as graphql-ws's reference server sends for any failed subscription.
        info.context.authorize(self.operation)
        async with aclosing(next_(source, info, **kwargs)) as events:
            async for event in events:
                yield event


class Refusals(FieldExtension):
    """Turns a UserError from a mutation's resolver into its payload with `errors` (and null objects)."""

    payload: Callable[..., Any]

    def apply(self, field: StrawberryField) -> None:
        payload = field.type
        if not callable(payload) or "errors" not in getattr(payload, "__annotations__", {}):
            raise TypeError(f"mutation {field.python_name} must return a payload type with `errors`")
        self.payload = payload

    async def resolve_async(self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except errors.UserError as exc:
            return self.payload(errors=[UserError.of(exc)])


def guard(*, query: type, mutation: type | None = None, subscription: type | None = None) -> None:
    """Put the policy's gate on every root field (and refusal handling on every mutation); idempotent."""
    names = NameConverter()
    for root in (query, mutation, subscription):
        if root is None:
            continue
        for field in get_object_definition(root, strict=True).fields:
            if any(isinstance(extension, Gate) for extension in field.extensions):
                continue
            operation = names.from_field(field)
            if operation not in PERMISSIONS:
                raise LookupError(
                    f"{root.__name__}.{operation} has no entry in ticketdesk.policy.PERMISSIONS: "
                    "add the roles that may call it"
                )
            if root is mutation:
                add_field_extension(field, Refusals())
            add_field_extension(field, Gate(operation))
