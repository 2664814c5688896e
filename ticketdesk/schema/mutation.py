"""The Mutation root: each field runs its resolver and shapes the payload.

Who may call each field is ticketdesk.policy's PERMISSIONS, and a refusal becomes the payload's `errors`
(ticketdesk.schema.gate): a field holds neither.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from ticketdesk.context import Info
from ticketdesk.models.enums import Priority, Status
from ticketdesk.parsing import parse_uuid
from ticketdesk.resolvers import (
    attachments,
    escalations,
    feedback,
    inbound,
    messages,
    tickets,
    transfers,
    webhooks,
)
from ticketdesk.schema.gate import gated
from ticketdesk.schema.inputs import (
    AITransferInput,
    CreateTicketInput,
    CreateWebhookInput,
    UpdateTicketInput,
    UpdateWebhookInput,
)
from ticketdesk.schema.payloads import (
    AttachmentPayload,
    EscalationPayload,
    FeedbackPayload,
    InboundSourcePayload,
    MessagePayload,
    TicketPayload,
    WebhookPayload,
)
from ticketdesk.uploads import ReceivedFile

NOT_MULTIPART = (
    "Send the file in a multipart/form-data request (the GraphQL multipart request spec: fields operations and "
    "map, then the file), not inside JSON."
)


@gated
@strawberry.type(description="Changing tickets.")
class Mutation:
    @strawberry.mutation(description="File a ticket (customers for themselves; others for a customerId).")
    async def create_ticket(self, info: Info, input: CreateTicketInput) -> TicketPayload:
        return TicketPayload.of(await tickets.create_ticket(info.context.actor, input.to_command()))

    @strawberry.mutation(
        name="createFromAITransfer",
        description="Hand an AI concierge conversation to a human; idempotent on conversationId per customer.",
    )
    async def create_from_ai_transfer(self, info: Info, input: AITransferInput) -> TicketPayload:
        return TicketPayload.of(await transfers.create_from_ai_transfer(info.context.actor, input.to_command()))

    @strawberry.mutation(description="Change a ticket's subject, description, category or priority (staff).")
    async def update_ticket(self, info: Info, id: strawberry.ID, input: UpdateTicketInput) -> TicketPayload:
        return TicketPayload.of(await tickets.update_ticket(info.context.actor, id, input.to_command()))

    @strawberry.mutation(
        description="Move a ticket through the workflow; `note` is stored as an internal note (staff)."
    )
    async def change_ticket_status(
        self, info: Info, id: strawberry.ID, status: Status, note: str | None = None
    ) -> TicketPayload:
        return TicketPayload.of(await tickets.change_status(info.context.actor, id, status, note))

    @strawberry.mutation(description="Assign a ticket to an agent or admin; a null agentId unassigns (staff).")
    async def assign_ticket(
        self, info: Info, id: strawberry.ID, agent_id: strawberry.ID | None = None
    ) -> TicketPayload:
        agent = parse_uuid(agent_id, "agentId") if agent_id is not None else None
        return TicketPayload.of(await tickets.assign_ticket(info.context.actor, id, agent))

    @strawberry.mutation(description="Write to the other side; a customer's reply reopens a resolved ticket.")
    async def add_message(
        self,
        info: Info,
        ticket_id: strawberry.ID,
        body: str,
        attachment_urls: list[str] | None = None,
        attachment_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Your pending uploads (uploadAttachment without ticketId) to send."),
        ] = None,
    ) -> MessagePayload:
        return MessagePayload.of(
            *await messages.add_message(
                info.context.actor,
                ticket_id,
                body,
                attachment_urls,
                list(attachment_ids) if attachment_ids is not None else None,
            )
        )

    @strawberry.mutation(description="Add a note only agents and admins see (staff).")
    async def add_internal_note(self, info: Info, ticket_id: strawberry.ID, body: str) -> MessagePayload:
        return MessagePayload.of(*await messages.add_internal_note(info.context.actor, ticket_id, body))

    @strawberry.mutation(description="Ask for a higher priority; one pending request per ticket.")
    async def request_escalation(
        self, info: Info, ticket_id: strawberry.ID, reason: str, target_priority: Priority
    ) -> EscalationPayload:
        return EscalationPayload.of(
            *await escalations.request_escalation(info.context.actor, ticket_id, reason, target_priority)
        )

    @strawberry.mutation(description="Approve (raising the ticket's priority) or deny an escalation (admins).")
    async def decide_escalation(
        self, info: Info, id: strawberry.ID, approve: bool, note: str | None = None
    ) -> EscalationPayload:
        return EscalationPayload.of(*await escalations.decide_escalation(info.context.actor, id, approve, note))

    @strawberry.mutation(description="Rate a resolved or closed ticket, once (the ticket's customer).")
    async def submit_feedback(
        self, info: Info, ticket_id: strawberry.ID, rating: int, comment: str | None = None
    ) -> FeedbackPayload:
        return FeedbackPayload.of(*await feedback.submit_feedback(info.context.actor, ticket_id, rating, comment))

    @strawberry.mutation(
        description="Upload a file, sent as multipart/form-data per the GraphQL multipart request spec (the only "
        "operation that takes multipart). Without ticketId the file waits, for 24 h, to be named in createTicket "
        "or addMessage (attachmentIds); with ticketId it joins that ticket at once (event ATTACHMENT_ADDED). "
        "Refusals (too large, a type not accepted, an empty file) are VALIDATION on `file`."
    )
    async def upload_attachment(
        self,
        info: Info,
        file: Upload,
        ticket_id: strawberry.ID | None = None,
        internal: Annotated[
            bool | None,
            strawberry.argument(description="Staff only: a file customers never see, like an internal note."),
        ] = False,
    ) -> AttachmentPayload:
        received = file if isinstance(file, ReceivedFile) else ReceivedFile(filename="", refusal=NOT_MULTIPART)
        context = info.context
        return AttachmentPayload.of(
            *await attachments.upload_attachment(context.actor, context.files, received, ticket_id, bool(internal))
        )

    @strawberry.mutation(
        description="Let another system open tickets: POST /webhooks/inbound/<name>, signed per Standard Webhooks "
        "with the secret this returns once (admins)."
    )
    async def create_inbound_source(self, name: str) -> InboundSourcePayload:
        created, secret = await inbound.create_inbound_source(name)
        return InboundSourcePayload(name=created, secret=secret)

    @strawberry.mutation(description="Subscribe an https endpoint to ticket events; returns its secret once (admins).")
    async def create_webhook(self, info: Info, input: CreateWebhookInput) -> WebhookPayload:
        return WebhookPayload.of(*await webhooks.create_webhook(info.context.settings, input.to_command()))

    @strawberry.mutation(description="Change, pause (enabled: false) or resume a webhook (admins).")
    async def update_webhook(self, info: Info, id: strawberry.ID, input: UpdateWebhookInput) -> WebhookPayload:
        return WebhookPayload.of(await webhooks.update_webhook(info.context.settings, id, input.to_command()))

    @strawberry.mutation(description="Delete a webhook and its deliveries (admins).")
    async def delete_webhook(self, id: strawberry.ID) -> WebhookPayload:
        return WebhookPayload.of(await webhooks.delete_webhook(id))

    @strawberry.mutation(description="Replace a webhook's signing secret; returns the new one once (admins).")
    async def rotate_webhook_secret(self, id: strawberry.ID) -> WebhookPayload:
        return WebhookPayload.of(*await webhooks.rotate_secret(id))

    @strawberry.mutation(description="Send a delivery's event to its webhook once more, now (admins).")
    async def redeliver_webhook(self, info: Info, delivery_id: strawberry.ID) -> WebhookPayload:
        return WebhookPayload.of(await webhooks.redeliver(info.context.settings, delivery_id))
