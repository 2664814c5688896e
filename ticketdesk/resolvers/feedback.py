"""Customer feedback, once per resolved or closed ticket."""

from __future__ import annotations

from ticketdesk.errors import UserError, UserErrorCode, validation
from ticketdesk.models import Feedback, Ticket
from ticketdesk.models.enums import EventType, Status
from ticketdesk.models.events import Change
from ticketdesk.resolvers.lookup import ticket_for_update
from ticketdesk.resolvers.transaction import Actor, transaction
from ticketdesk.resolvers.validation import clean_optional_text

FEEDBACK_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED})


async def submit_feedback(actor: Actor, ticket_ref: str, rating: int, comment: str | None) -> tuple[Feedback, Ticket]:
    """submitFeedback: a 1-5 rating with an optional comment."""
    if not 1 <= rating <= 5:
        raise validation("rating must be a whole number from 1 to 5.", "rating")
    text = clean_optional_text(comment, "comment")
    async with transaction(actor) as tx:
        ticket = await ticket_for_update(actor.scope, ticket_ref, "ticketId")
        if ticket.status not in FEEDBACK_STATUSES:
            raise UserError(
                UserErrorCode.INVALID_TRANSITION,
                "Feedback can be given once the ticket is resolved or closed.",
                ["ticketId"],
            )
        if await Feedback.filter(ticket_id=ticket.id).exists():
            raise UserError(UserErrorCode.CONFLICT, "Feedback was already given for this ticket.", ["ticketId"])
        feedback = await Feedback.create(ticket_id=ticket.id, rating=rating, comment=text)
        await tx.record(ticket, Change(EventType.FEEDBACK_SUBMITTED))
    return feedback, ticket
