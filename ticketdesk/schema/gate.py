"""What every root field gets without writing it: the policy's gate, and refusals as payloads.

`@gated` on a root type (Query, Mutation, Subscription) gives each of its fields a `Gate` for its operation in
ticketdesk.policy.PERMISSIONS; a field the table does not name is an error as soon as the type is defined,
so no operation can exist without a policy line, and `build_schema` refuses a root field without a gate.
Each field that returns a payload with `errors` also gets `Refusals`, which turns a UserError raised by its
resolver (after the transaction rolled back) into that payload's `errors`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any, TypeVar, cast

from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension, SyncExtensionResolver
from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import get_object_definition
from strawberry.types.field import StrawberryField

from ticketdesk import errors
from ticketdesk.context import Info
from ticketdesk.internals.strawberry import add_field_extension
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
        self.payload = cast("Callable[..., Any]", field.type)

    async def resolve_async(self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except errors.UserError as exc:
            return self.payload(errors=[UserError.of(exc)])


T = TypeVar("T")


def gated(root: type[T]) -> type[T]:
    """Class decorator for a root type: the policy's gate on every field, refusals as payloads where it returns one."""
    names = NameConverter()
    for field in get_object_definition(root, strict=True).fields:
        operation = names.from_field(field)
        if operation not in PERMISSIONS:
            raise LookupError(
                f"{root.__name__}.{operation} has no entry in ticketdesk.policy.PERMISSIONS: "
                "add the roles that may call it"
            )
        if _returns_payload(field):
            add_field_extension(field, Refusals())
        add_field_extension(field, Gate(operation))
    return root


def ungated_fields(*roots: type) -> list[str]:
    """The fields of `roots` that carry no policy gate (a root type defined without `@gated`)."""
    return [
        f"{root.__name__}.{field.python_name}"
        for root in roots
        for field in get_object_definition(root, strict=True).fields
        if not any(isinstance(extension, Gate) for extension in field.extensions)
    ]


def _returns_payload(field: StrawberryField) -> bool:
    definition = get_object_definition(field.type)
    return definition is not None and any(member.python_name == "errors" for member in definition.fields)
