"""Moving a ticket through its status workflow (the table of allowed moves per role is in ticketdesk.policy)."""

from __future__ import annotations

import datetime as dt

from ticketdesk.auth import Viewer
from ticketdesk.errors import UserError, UserErrorCode
from ticketdesk.models import Ticket
from ticketdesk.models.enums import EventType, Role, Status
from ticketdesk.models.events import Change
from ticketdesk.policy import next_statuses


def transition(viewer: Viewer, ticket: Ticket, to: Status, field: str = "status") -> Change:
    """Move `ticket` to `to` (setting or clearing resolvedAt) if the workflow lets `viewer` make that move;
    returns the STATUS_CHANGED event to record, else refuses with INVALID_TRANSITION."""
    allowed = next_statuses(viewer, ticket.status)
    if to not in allowed:
        by = " by its customer" if viewer.role is Role.CUSTOMER else ""
        options = ", ".join(sorted(status.value for status in allowed)) or "none"
        raise UserError(
            UserErrorCode.INVALID_TRANSITION,
            f"A ticket cannot move from {ticket.status.value} to {to.value}{by} (allowed next: {options}).",
            [field],
        )
    change = Change(EventType.STATUS_CHANGED, from_status=ticket.status, to_status=to)
    ticket.status = to
    if to is Status.RESOLVED:
        ticket.resolved_at = dt.datetime.now(dt.UTC)
    elif to is Status.REOPENED:
        ticket.resolved_at = None
    return change
