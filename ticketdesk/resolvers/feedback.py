"""Customer feedback, once per resolved or closed ticket."""

from __future__ import annotations

from ticketdesk.auth import Viewer
from ticketdesk.context import Context
from ticketdesk.errors import UserError, UserErrorCode, validation
from ticketdesk.models import Feedback, Ticket
from ticketdesk.models.enums import EventType, Status
from ticketdesk.models.events import Change
from ticketdesk.resolvers.unit import clean_optional_text, find_ticket, write

FEEDBACK_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED})


async def submit_feedback(
    context: Context, viewer: Viewer, ticket_ref: str, rating: int, comment: str | None
) -> tuple[Feedback, Ticket]:
    """submitFeedback: a 1-5 rating with an optional comment."""
    if not 1 <= rating <= 5:
        raise validation("rating must be a whole number from 1 to 5.", "rating")
    text = clean_optional_text(comment, "comment")
    async with write(context, viewer) as unit:
        ticket = await find_ticket(viewer, ticket_ref, for_update=True, field="ticketId")
        if ticket.status not in FEEDBACK_STATUSES:
            raise UserError(
                UserErrorCode.INVALID_TRANSITION,
                "Feedback can be given once the ticket is resolved or closed.",
                ["ticketId"],
            )
        if await Feedback.filter(ticket_id=ticket.id).exists():
            raise UserError(UserErrorCode.CONFLICT, "Feedback was already given for this ticket.", ["ticketId"])
        feedback = await Feedback.create(ticket_id=ticket.id, rating=rating, comment=text)
        await unit.record(ticket, Change(EventType.FEEDBACK_SUBMITTED))
    return feedback, ticket
