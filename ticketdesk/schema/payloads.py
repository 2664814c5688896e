"""Mutation payloads: the changed objects, or the reasons in `errors` (then the objects are null)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import strawberry

from ticketdesk.errors import UserError as UserErrorException
from ticketdesk.errors import UserErrorCode
from ticketdesk.schema.types import EscalationRequest, Feedback, Message, Ticket

T = TypeVar("T")


@strawberry.type(description="Why a permitted operation was refused; nothing was changed.")
class UserError:
    code: UserErrorCode = strawberry.field(description="Machine-readable reason.")
    message: str = strawberry.field(description="What went wrong and what to do about it.")
    field: list[str] | None = strawberry.field(description="Path of the input field at fault, if one is.")


@strawberry.type(description="The ticket a mutation created or changed.")
class TicketPayload:
    ticket: Ticket | None = strawberry.field(default=None, description="The ticket; null when errors.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.type(description="The message a mutation added.")
class MessagePayload:
    message: Message | None = strawberry.field(default=None, description="The message; null when errors.")
    ticket: Ticket | None = strawberry.field(default=None, description="Its ticket; null when errors.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.type(description="The escalation request a mutation created or decided.")
class EscalationPayload:
    escalation: EscalationRequest | None = strawberry.field(default=None, description="Null when errors.")
    ticket: Ticket | None = strawberry.field(default=None, description="Its ticket; null when errors.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.type(description="The feedback a customer gave.")
class FeedbackPayload:
    feedback: Feedback | None = strawberry.field(default=None, description="Null when errors.")
    ticket: Ticket | None = strawberry.field(default=None, description="Its ticket; null when errors.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Empty on success.")


async def refused(work: Awaitable[T]) -> T | list[UserError]:
    """Await the mutation; a UserError it raised (after its rollback) becomes the payload's errors."""
    try:
        return await work
    except UserErrorException as exc:
        return [UserError(code=exc.code, message=exc.message, field=exc.field)]
