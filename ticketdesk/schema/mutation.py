"""The Mutation root: each field checks the role, runs its resolver and shapes the payload."""

from __future__ import annotations

import strawberry

from ticketdesk.auth import STAFF
from ticketdesk.context import Info
from ticketdesk.models.enums import Priority, Role, Status
from ticketdesk.resolvers import escalations, feedback, messages, tickets, transfers
from ticketdesk.schema.ids import parse_uuid
from ticketdesk.schema.inputs import AITransferInput, CreateTicketInput, UpdateTicketInput
from ticketdesk.schema.payloads import (
    EscalationPayload,
    FeedbackPayload,
    MessagePayload,
    TicketPayload,
    refused,
)
from ticketdesk.schema.types import EscalationRequest, Feedback, Message, Ticket

CREATORS = (Role.CUSTOMER, Role.AGENT, Role.ADMIN, Role.SERVICE)
CUSTOMER_OR_STAFF = (Role.CUSTOMER, Role.AGENT, Role.ADMIN)


@strawberry.type(description="Changing tickets.")
class Mutation:
    @strawberry.mutation(description="File a ticket (customers for themselves; others for a customerId).")
    async def create_ticket(self, info: Info, input: CreateTicketInput) -> TicketPayload:
        viewer = info.context.require(*CREATORS)
        result = await refused(
            tickets.create_ticket(
                info.context,
                viewer,
                subject=input.subject,
                description=input.description,
                category=input.category,
                priority=input.priority,
                attachment_urls=input.attachment_urls,
                error_details=input.error_details,
                customer_id=parse_uuid(input.customer_id, "input.customerId") if input.customer_id else None,
                idempotency_key=input.idempotency_key,
            )
        )
        return TicketPayload(errors=result) if isinstance(result, list) else TicketPayload(ticket=Ticket.of(result))

    @strawberry.mutation(
        name="createFromAITransfer",
        description="Hand an AI concierge conversation to a human; idempotent on conversationId per customer.",
    )
    async def create_from_ai_transfer(self, info: Info, input: AITransferInput) -> TicketPayload:
        viewer = info.context.require(Role.CUSTOMER, Role.SERVICE)
        facts = input.customer_context
        context = (
            {
                "accountStatus": facts.account_status,
                "recentTransactions": facts.recent_transactions,
                "accountAge": facts.account_age,
            }
            if facts is not None
            else None
        )
        result = await refused(
            transfers.create_from_ai_transfer(
                info.context,
                viewer,
                conversation_id=input.conversation_id,
                summary_of_issue=input.summary_of_issue,
                category=input.category,
                priority=input.priority,
                history=[transfers.Line(m.role, m.content, m.timestamp) for m in input.conversation_history],
                suggested_resolution=input.suggested_resolution,
                customer_context=context,
                customer_id=parse_uuid(input.customer_id, "input.customerId") if input.customer_id else None,
            )
        )
        return TicketPayload(errors=result) if isinstance(result, list) else TicketPayload(ticket=Ticket.of(result))

    @strawberry.mutation(description="Change a ticket's subject, description, category or priority (staff).")
    async def update_ticket(self, info: Info, id: strawberry.ID, input: UpdateTicketInput) -> TicketPayload:
        viewer = info.context.require(*STAFF)
        result = await refused(
            tickets.update_ticket(
                info.context,
                viewer,
                id,
                subject=input.subject,
                description=input.description,
                category=input.category,
                priority=input.priority,
            )
        )
        return TicketPayload(errors=result) if isinstance(result, list) else TicketPayload(ticket=Ticket.of(result))

    @strawberry.mutation(
        description="Move a ticket through the workflow; `note` is stored as an internal note (staff)."
    )
    async def change_ticket_status(
        self, info: Info, id: strawberry.ID, status: Status, note: str | None = None
    ) -> TicketPayload:
        viewer = info.context.require(*CUSTOMER_OR_STAFF)
        result = await refused(tickets.change_status(info.context, viewer, id, status, note))
        return TicketPayload(errors=result) if isinstance(result, list) else TicketPayload(ticket=Ticket.of(result))

    @strawberry.mutation(description="Assign a ticket to an agent or admin; a null agentId unassigns (staff).")
    async def assign_ticket(
        self, info: Info, id: strawberry.ID, agent_id: strawberry.ID | None = None
    ) -> TicketPayload:
        viewer = info.context.require(*STAFF)
        agent = parse_uuid(agent_id, "agentId") if agent_id is not None else None
        result = await refused(tickets.assign_ticket(info.context, viewer, id, agent))
        return TicketPayload(errors=result) if isinstance(result, list) else TicketPayload(ticket=Ticket.of(result))

    @strawberry.mutation(description="Write to the other side; a customer's reply reopens a resolved ticket.")
    async def add_message(
        self, info: Info, ticket_id: strawberry.ID, body: str, attachment_urls: list[str] | None = None
    ) -> MessagePayload:
        viewer = info.context.require(*CUSTOMER_OR_STAFF)
        result = await refused(messages.add_message(info.context, viewer, ticket_id, body, attachment_urls))
        if isinstance(result, list):
            return MessagePayload(errors=result)
        message, ticket = result
        return MessagePayload(message=Message.of(message), ticket=Ticket.of(ticket))

    @strawberry.mutation(description="Add a note only agents and admins see (staff).")
    async def add_internal_note(self, info: Info, ticket_id: strawberry.ID, body: str) -> MessagePayload:
        viewer = info.context.require(*STAFF)
        result = await refused(messages.add_internal_note(info.context, viewer, ticket_id, body))
        if isinstance(result, list):
            return MessagePayload(errors=result)
        message, ticket = result
        return MessagePayload(message=Message.of(message), ticket=Ticket.of(ticket))

    @strawberry.mutation(description="Ask for a higher priority; one pending request per ticket.")
    async def request_escalation(
        self, info: Info, ticket_id: strawberry.ID, reason: str, target_priority: Priority
    ) -> EscalationPayload:
        viewer = info.context.require(*CUSTOMER_OR_STAFF)
        result = await refused(escalations.request_escalation(info.context, viewer, ticket_id, reason, target_priority))
        if isinstance(result, list):
            return EscalationPayload(errors=result)
        escalation, ticket = result
        return EscalationPayload(escalation=EscalationRequest.of(escalation), ticket=Ticket.of(ticket))

    @strawberry.mutation(description="Approve (raising the ticket's priority) or deny an escalation (admins).")
    async def decide_escalation(
        self, info: Info, id: strawberry.ID, approve: bool, note: str | None = None
    ) -> EscalationPayload:
        viewer = info.context.require(Role.ADMIN)
        result = await refused(escalations.decide_escalation(info.context, viewer, id, approve, note))
        if isinstance(result, list):
            return EscalationPayload(errors=result)
        escalation, ticket = result
        return EscalationPayload(escalation=EscalationRequest.of(escalation), ticket=Ticket.of(ticket))

    @strawberry.mutation(description="Rate a resolved or closed ticket, once (the ticket's customer).")
    async def submit_feedback(
        self, info: Info, ticket_id: strawberry.ID, rating: int, comment: str | None = None
    ) -> FeedbackPayload:
        viewer = info.context.require(Role.CUSTOMER)
        result = await refused(feedback.submit_feedback(info.context, viewer, ticket_id, rating, comment))
        if isinstance(result, list):
            return FeedbackPayload(errors=result)
        row, ticket = result
        return FeedbackPayload(feedback=Feedback.of(row), ticket=Ticket.of(ticket))
