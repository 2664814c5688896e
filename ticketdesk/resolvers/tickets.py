"""Creating, editing, moving through the workflow and assigning tickets."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from tortoise.exceptions import IntegrityError

from ticketdesk.auth import Viewer
from ticketdesk.context import Context
from ticketdesk.errors import UserError, UserErrorCode, validation
from ticketdesk.models import Attachment, Message, Ticket
from ticketdesk.models.analysis import DEFAULT_PRIORITY
from ticketdesk.models.enums import Category, EventType, Priority, Role, SenderType, Source, Status
from ticketdesk.models.events import Change
from ticketdesk.models.tickets import next_values, reference_for
from ticketdesk.resolvers.people import agent_for, customer_for
from ticketdesk.resolvers.unit import (
    Unit,
    clean_optional_text,
    clean_text,
    clean_urls,
    find_ticket,
    write,
)

SUBJECT_MAX = 255
KEY_MAX = 255
TICKET_COUNTER = "ticket"

# The status workflow: which statuses each role may move a ticket to, from each status.
STAFF_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.OPEN, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.REOPENED}),
    Status.CLOSED: frozenset({Status.REOPENED}),
    Status.REOPENED: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
}
CUSTOMER_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RESOLVED: frozenset({Status.CLOSED, Status.REOPENED}),
}

SOURCE_BY_ROLE = {
    Role.CUSTOMER: Source.MOBILE,
    Role.AGENT: Source.ADMIN,
    Role.ADMIN: Source.ADMIN,
    Role.SERVICE: Source.WEBHOOK,
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def move(ticket: Ticket, to: Status) -> Change:
    """Set the ticket's status (and resolvedAt) and describe the change as an event."""
    change = Change(EventType.STATUS_CHANGED, from_status=ticket.status, to_status=to)
    ticket.status = to
    if to is Status.RESOLVED:
        ticket.resolved_at = _now()
    elif to is Status.REOPENED:
        ticket.resolved_at = None
    return change


def check_transition(viewer: Viewer, current: Status, to: Status) -> None:
    """Refuse (INVALID_TRANSITION) a move the workflow table does not allow for the viewer's role."""
    table = CUSTOMER_TRANSITIONS if viewer.role is Role.CUSTOMER else STAFF_TRANSITIONS
    if to not in table.get(current, frozenset()):
        raise UserError(
            UserErrorCode.INVALID_TRANSITION,
            f"A ticket cannot move from {current.value} to {to.value}"
            + (" by its customer." if viewer.role is Role.CUSTOMER else "."),
            ["status"],
        )


async def existing_by_key(customer_id: uuid.UUID, key: str) -> Ticket | None:
    """The ticket an earlier request with this idempotency key created."""
    return await Ticket.filter(customer_id=customer_id, idempotency_key=key).first()


async def insert_ticket(
    unit: Unit,
    *,
    customer_id: uuid.UUID,
    subject: str,
    description: str,
    category: Category,
    priority: Priority,
    source: Source,
    idempotency_key: str | None = None,
    error_details: Any = None,
    attachment_urls: list[str] | None = None,
) -> Ticket:
    """Number and store a new ticket (with its attachments); the caller records CREATED."""
    number = await next_values(TICKET_COUNTER)
    ticket = await Ticket.create(
        number=number,
        reference=reference_for(number),
        customer_id=customer_id,
        subject=subject,
        description=description,
        category=category,
        priority=priority,
        source=source,
        idempotency_key=idempotency_key,
        error_details=error_details,
    )
    if attachment_urls:
        await Attachment.bulk_create(
            [Attachment(ticket_id=ticket.id, url=url, filename=_filename(url)) for url in attachment_urls]
        )
    return ticket


def _filename(url: str) -> str | None:
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return name[:255] or None


async def create_ticket(
    context: Context,
    viewer: Viewer,
    *,
    subject: str,
    description: str,
    category: Category,
    priority: Priority | None,
    attachment_urls: list[str] | None,
    error_details: Any,
    customer_id: uuid.UUID | None,
    idempotency_key: str | None,
) -> Ticket:
    """createTicket: a manual ticket, idempotent on (customer, idempotencyKey)."""
    subject = clean_text(subject, "subject", limit=SUBJECT_MAX)
    description = clean_text(description, "description")
    key = clean_optional_text(idempotency_key, "idempotencyKey", limit=KEY_MAX)
    urls = clean_urls(attachment_urls, "attachmentUrls", context.settings.attachment_hosts)
    owner = await customer_for(viewer, customer_id)
    if key is not None and (replay := await existing_by_key(owner, key)) is not None:
        return replay
    try:
        async with write(context, viewer) as unit:
            ticket = await insert_ticket(
                unit,
                customer_id=owner,
                subject=subject,
                description=description,
                category=category,
                priority=priority or DEFAULT_PRIORITY[category],
                source=SOURCE_BY_ROLE[viewer.role],
                idempotency_key=key,
                error_details=error_details,
                attachment_urls=urls,
            )
            await unit.record(ticket, Change(EventType.CREATED))
    except IntegrityError:
        # A concurrent request with the same key won the race; its ticket is ours.
        if key is not None and (replay := await existing_by_key(owner, key)) is not None:
            return replay
        raise
    return ticket


async def update_ticket(
    context: Context,
    viewer: Viewer,
    ticket_ref: str,
    *,
    subject: str | None,
    description: str | None,
    category: Category | None,
    priority: Priority | None,
) -> Ticket:
    """updateTicket: edit subject, description, category or priority; UPDATED lists what changed."""
    values: dict[str, Any] = {}
    if subject is not None:
        values["subject"] = clean_text(subject, "subject", limit=SUBJECT_MAX)
    if description is not None:
        values["description"] = clean_text(description, "description")
    if category is not None:
        values["category"] = category
    if priority is not None:
        values["priority"] = priority
    if not values:
        raise validation("Give at least one field to change.", "input")
    async with write(context, viewer) as unit:
        ticket = await find_ticket(viewer, ticket_ref, for_update=True)
        changed = {
            name: {"from": _plain(getattr(ticket, name)), "to": _plain(value)}
            for name, value in values.items()
            if getattr(ticket, name) != value
        }
        if changed:
            for name in changed:
                setattr(ticket, name, values[name])
            await ticket.save()
            await unit.record(ticket, Change(EventType.UPDATED, changes=changed))
    return ticket


def _plain(value: object) -> object:
    return value.value if isinstance(value, Category | Priority) else value


async def change_status(context: Context, viewer: Viewer, ticket_ref: str, to: Status, note: str | None) -> Ticket:
    """changeTicketStatus: one step of the workflow, with an optional internal note."""
    body = clean_optional_text(note, "note")
    if body is not None and not viewer.is_staff:
        raise UserError(UserErrorCode.FORBIDDEN, "Only agents can attach internal notes.", ["note"])
    async with write(context, viewer) as unit:
        ticket = await find_ticket(viewer, ticket_ref, for_update=True)
        if ticket.status is to:
            return ticket  # a retried tap: nothing to change, nothing to record
        check_transition(viewer, ticket.status, to)
        changes = [move(ticket, to)]
        await ticket.save()
        if body is not None:
            message = await Message.create(
                ticket_id=ticket.id, sender_id=viewer.id, sender_type=SenderType.AGENT, body=body, internal=True
            )
            changes.append(Change(EventType.NOTE_ADDED, message_id=message.id))
        await unit.record(ticket, *changes)
    return ticket


async def assign_ticket(context: Context, viewer: Viewer, ticket_ref: str, agent_id: uuid.UUID | None) -> Ticket:
    """assignTicket: give the ticket to an agent or admin, or (None) take it back."""
    agent = await agent_for(agent_id) if agent_id is not None else None
    async with write(context, viewer) as unit:
        ticket = await find_ticket(viewer, ticket_ref, for_update=True)
        new_id = agent.id if agent is not None else None
        if ticket.assignee_id != new_id:
            ticket.assignee_id = new_id
            await ticket.save()
            await unit.record(ticket, Change(EventType.ASSIGNED, assignee_id=new_id))
    return ticket
