"""Finding the objects an operation names, as far as the caller may see them.

A query's argument that is malformed is BAD_USER_INPUT, and a ticket out of view is simply absent
(`visible_ticket` answers None). A mutation's target that is malformed, missing or out of view is one
and the same NOT_FOUND, so existence never leaks.
"""

from __future__ import annotations

import uuid

from ticketdesk.errors import BadUserInput, not_found
from ticketdesk.models import EscalationRequest, Ticket
from ticketdesk.parsing import TicketRef, parse_ticket_ref, parse_uuid
from ticketdesk.policy import Scope


async def visible_ticket(scope: Scope, ticket_ref: str, argument: str) -> Ticket | None:
    """The ticket named by UUID or reference, if it exists and is in `scope`."""
    return await _ticket(scope, parse_ticket_ref(ticket_ref, argument), for_update=False)


async def ticket_for_update(scope: Scope, ticket_ref: str | uuid.UUID, field: str = "id") -> Ticket:
    """A mutation's target ticket (by UUID or reference), locked until the transaction ends; NOT_FOUND
    unless it is in `scope`."""
    try:
        ref = TicketRef(id=ticket_ref) if isinstance(ticket_ref, uuid.UUID) else parse_ticket_ref(ticket_ref, field)
    except BadUserInput:
        raise not_found("ticket", (field,)) from None
    ticket = await _ticket(scope, ref, for_update=True)
    if ticket is None:
        raise not_found("ticket", (field,))
    return ticket


async def _ticket(scope: Scope, ref: TicketRef, *, for_update: bool) -> Ticket | None:
    query = Ticket.filter(scope.tickets(), **ref.lookup)
    if for_update:
        query = query.select_for_update()
    return await query.first()


async def escalation_for_update(escalation_id: str, field: str = "id") -> EscalationRequest:
    """An escalation request a mutation decides, locked until the transaction ends; else NOT_FOUND."""
    try:
        key = parse_uuid(escalation_id, field)
    except BadUserInput:
        raise not_found("escalation request", (field,)) from None
    escalation = await EscalationRequest.filter(id=key).select_for_update().first()
    if escalation is None:
        raise not_found("escalation request", (field,))
    return escalation
