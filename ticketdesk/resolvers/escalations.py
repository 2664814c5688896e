"""Escalation requests (customers and agents) and their decisions (admins)."""

from __future__ import annotations

import datetime as dt

from ticketdesk.errors import UserError, UserErrorCode, not_found
from ticketdesk.models import EscalationRequest, Ticket
from ticketdesk.models.enums import EscalationStatus, EventType, Priority
from ticketdesk.models.events import Change
from ticketdesk.resolvers.lookup import escalation_for_update, ticket_for_update
from ticketdesk.resolvers.transaction import Actor, transaction
from ticketdesk.resolvers.validation import clean_optional_text, clean_text


async def request_escalation(
    actor: Actor, ticket_ref: str, reason: str, target: Priority
) -> tuple[EscalationRequest, Ticket]:
    """requestEscalation: at most one pending request per ticket."""
    text = clean_text(reason, "reason")
    async with transaction(actor) as tx:
        ticket = await ticket_for_update(actor.scope, ticket_ref, "ticketId")
        if await EscalationRequest.filter(ticket_id=ticket.id, status=EscalationStatus.PENDING).exists():
            raise UserError(
                UserErrorCode.CONFLICT,
                "This ticket already has a pending escalation request; wait for its decision.",
                ["ticketId"],
            )
        escalation = await EscalationRequest.create(
            ticket_id=ticket.id, reason=text, target_priority=target, requested_by=actor.viewer.id
        )
        await tx.record(ticket, Change(EventType.ESCALATION_REQUESTED, escalation_id=escalation.id))
    return escalation, ticket


async def decide_escalation(
    actor: Actor, escalation_id: str, approve: bool, note: str | None
) -> tuple[EscalationRequest, Ticket]:
    """decideEscalation: approval raises the ticket's priority to the target, never lowers it."""
    text = clean_optional_text(note, "note")
    async with transaction(actor) as tx:
        escalation = await escalation_for_update(escalation_id)
        try:
            ticket = await ticket_for_update(actor.scope, escalation.ticket_id)
        except UserError:
            raise not_found("escalation request") from None  # a request of a ticket out of view is none at all
        if escalation.status is not EscalationStatus.PENDING:
            raise UserError(
                UserErrorCode.CONFLICT,
                f"This request was already {escalation.status.value.lower()}.",
                ["id"],
            )
        escalation.status = EscalationStatus.APPROVED if approve else EscalationStatus.DENIED
        escalation.decided_by_id = actor.viewer.id
        escalation.decision_note = text
        escalation.decided_at = dt.datetime.now(dt.UTC)
        await escalation.save()
        changes = [Change(EventType.ESCALATION_DECIDED, escalation_id=escalation.id)]
        if approve and escalation.target_priority.rank > ticket.priority.rank:
            changes.append(
                Change(
                    EventType.UPDATED,
                    changes={"priority": {"from": ticket.priority.value, "to": escalation.target_priority.value}},
                )
            )
            ticket.priority = escalation.target_priority
            await ticket.save()
        await tx.record(ticket, *changes)
    return escalation, ticket
