"""Escalation requests (customers and agents) and their decisions (admins)."""

from __future__ import annotations

import datetime as dt
import uuid

from ticketdesk.auth import Viewer
from ticketdesk.context import Context
from ticketdesk.errors import UserError, UserErrorCode, not_found
from ticketdesk.models import EscalationRequest, Ticket
from ticketdesk.models.enums import EscalationStatus, EventType, Priority
from ticketdesk.models.events import Change
from ticketdesk.resolvers.unit import clean_optional_text, clean_text, find_ticket, write


async def request_escalation(
    context: Context, viewer: Viewer, ticket_ref: str, reason: str, target: Priority
) -> tuple[EscalationRequest, Ticket]:
    """requestEscalation: at most one pending request per ticket."""
    text = clean_text(reason, "reason")
    async with write(context, viewer) as unit:
        ticket = await find_ticket(viewer, ticket_ref, for_update=True, field="ticketId")
        if await EscalationRequest.filter(ticket_id=ticket.id, status=EscalationStatus.PENDING).exists():
            raise UserError(
                UserErrorCode.CONFLICT,
                "This ticket already has a pending escalation request; wait for its decision.",
                ["ticketId"],
            )
        escalation = await EscalationRequest.create(
            ticket_id=ticket.id, reason=text, target_priority=target, requested_by=viewer.id
        )
        await unit.record(ticket, Change(EventType.ESCALATION_REQUESTED, escalation_id=escalation.id))
    return escalation, ticket


async def decide_escalation(
    context: Context, viewer: Viewer, escalation_id: str, approve: bool, note: str | None
) -> tuple[EscalationRequest, Ticket]:
    """decideEscalation: approval raises the ticket's priority to the target, never lowers it."""
    text = clean_optional_text(note, "note")
    try:
        key = uuid.UUID(escalation_id)
    except ValueError:
        raise not_found("escalation request") from None
    async with write(context, viewer) as unit:
        escalation = await EscalationRequest.filter(id=key).select_for_update().first()
        if escalation is None:
            raise not_found("escalation request")
        if escalation.status is not EscalationStatus.PENDING:
            raise UserError(
                UserErrorCode.CONFLICT,
                f"This request was already {escalation.status.value.lower()}.",
                ["id"],
            )
        ticket = await find_ticket(viewer, str(escalation.ticket_id), for_update=True)
        escalation.status = EscalationStatus.APPROVED if approve else EscalationStatus.DENIED
        escalation.decided_by_id = viewer.id
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
        await unit.record(ticket, *changes)
    return escalation, ticket
