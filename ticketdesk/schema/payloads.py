"""Mutation payloads: the changed objects, or the reasons in `errors` (then the objects are null).

Every mutation field returns `<Payload>.of(<what its resolver returned>)`; a UserError its resolver raised
becomes `<Payload>(errors=[...])` in ticketdesk.schema.gate, so no field handles refusals itself.
"""

from __future__ import annotations

import strawberry

from ticketdesk import errors, models
from ticketdesk.errors import UserErrorCode
from ticketdesk.schema.types import Attachment, EscalationRequest, Feedback, Message, Ticket, Webhook


@strawberry.type(description="Why a permitted operation was refused; nothing was changed.")
class UserError:
    code: UserErrorCode = strawberry.field(description="Machine-readable reason.")
    message: str = strawberry.field(description="What went wrong and what to do about it.")
    field: list[str] | None = strawberry.field(description="Path of the input field at fault, if one is.")

    @classmethod
    def of(cls, error: errors.UserError) -> UserError:
        """The GraphQL view of a refusal."""
        return cls(code=error.code, message=error.message, field=error.field)


@strawberry.type(description="The ticket a mutation created or changed.")
class TicketPayload:
    ticket: Ticket | None = strawberry.field(default=None, description="The ticket; null when errors.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Empty on success.")

    @classmethod
    def of(cls, ticket: models.Ticket) -> TicketPayload:
        """The payload of a ticket the mutation created or changed."""
        return cls(ticket=Ticket.of(ticket))


@strawberry.type(description="The message a mutation added.")
class MessagePayload:
    message: Message | None = strawberry.field(default=None, description="The message; null when errors.")
    ticket: Ticket | None = strawberry.field(default=None, description="Its ticket; null when errors.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Empty on success.")

    @classmethod
    def of(cls, message: models.Message, ticket: models.Ticket) -> MessagePayload:
        """The payload of a message the mutation added to `ticket`."""
        return cls(message=Message.of(message), ticket=Ticket.of(ticket))


@strawberry.type(description="The escalation request a mutation created or decided.")
class EscalationPayload:
    escalation: EscalationRequest | None = strawberry.field(default=None, description="Null when errors.")
    ticket: Ticket | None = strawberry.field(default=None, description="Its ticket; null when errors.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Empty on success.")

    @classmethod
    def of(cls, escalation: models.EscalationRequest, ticket: models.Ticket) -> EscalationPayload:
        """The payload of an escalation request of `ticket` the mutation created or decided."""
        return cls(escalation=EscalationRequest.of(escalation), ticket=Ticket.of(ticket))


@strawberry.type(description="The feedback a customer gave.")
class FeedbackPayload:
    feedback: Feedback | None = strawberry.field(default=None, description="Null when errors.")
    ticket: Ticket | None = strawberry.field(default=None, description="Its ticket; null when errors.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Empty on success.")

    @classmethod
    def of(cls, feedback: models.Feedback, ticket: models.Ticket) -> FeedbackPayload:
        """The payload of the feedback given on `ticket`."""
        return cls(feedback=Feedback.of(feedback), ticket=Ticket.of(ticket))


@strawberry.type(description="The file a mutation uploaded.")
class AttachmentPayload:
    attachment: Attachment | None = strawberry.field(default=None, description="The file; null when errors.")
    ticket: Ticket | None = strawberry.field(
        default=None, description="The ticket it joined; null for a pending upload and when errors."
    )
    errors: list[UserError] = strawberry.field(default_factory=list, description="Empty on success.")

    @classmethod
    def of(cls, attachment: models.Attachment, ticket: models.Ticket | None) -> AttachmentPayload:
        """The payload of an uploaded file, pending or joined to `ticket`."""
        return cls(attachment=Attachment.of(attachment), ticket=Ticket.of(ticket) if ticket is not None else None)


@strawberry.type(description="An inbound source: another system that opens tickets through /webhooks/inbound/<name>.")
class InboundSourcePayload:
    name: str | None = strawberry.field(default=None, description="The source's name, in its URL.")
    secret: str | None = strawberry.field(
        default=None, description="The signing secret (whsec_...), shown this once: store it in the sending system."
    )
    errors: list[UserError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.type(description="The webhook a mutation created, changed or deleted.")
class WebhookPayload:
    webhook: Webhook | None = strawberry.field(default=None, description="The webhook; null when errors.")
    secret: str | None = strawberry.field(
        default=None, description="The signing secret (whsec_...): only from createWebhook and rotateWebhookSecret."
    )
    errors: list[UserError] = strawberry.field(default_factory=list, description="Empty on success.")

    @classmethod
    def of(cls, webhook: models.Webhook, secret: str | None = None) -> WebhookPayload:
        """The payload of a webhook, with its secret where the mutation shows it."""
        return cls(webhook=Webhook.of(webhook), secret=secret)
