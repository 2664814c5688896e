"""Filing, reading, editing, moving through the workflow and assigning tickets."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError

from ticketdesk.auth import Viewer
from ticketdesk.errors import UserError, UserErrorCode, validation
from ticketdesk.models import Attachment, Message, Ticket
from ticketdesk.models.enums import DEFAULT_PRIORITY, Category, EventType, Priority, Role, SenderType, Source, Status
from ticketdesk.models.events import Change
from ticketdesk.models.search import index_messages, index_ticket, refresh_head
from ticketdesk.models.tickets import next_values, reference_for
from ticketdesk.policy import check_priority, scope_of
from ticketdesk.resolvers.attachments import attach_pending, parse_attachment_ids
from ticketdesk.resolvers.lookup import ticket_for_update, visible_ticket
from ticketdesk.resolvers.people import assignee, customer_for
from ticketdesk.resolvers.transaction import Actor, transaction
from ticketdesk.resolvers.validation import clean_json, clean_optional_text, clean_text, clean_urls, filename_of
from ticketdesk.resolvers.workflow import transition

SUBJECT_MAX = 255
KEY_MAX = 255
TICKET_COUNTER = "ticket"
ATTACHMENT_IDS = "attachmentIds"

SOURCE_BY_ROLE = {
    Role.CUSTOMER: Source.MOBILE,
    Role.AGENT: Source.ADMIN,
    Role.ADMIN: Source.ADMIN,
    Role.SERVICE: Source.WEBHOOK,
}


async def get_ticket(viewer: Viewer, ticket_ref: str, argument: str = "id") -> Ticket | None:
    """One ticket by UUID or reference; None when it is missing or out of the viewer's view."""
    return await visible_ticket(scope_of(viewer), ticket_ref, argument)


@dataclass(frozen=True)
class NewTicket:
    """What createTicket asks for, as the client sent it."""

    subject: str
    description: str
    category: Category
    priority: Priority | None = None
    attachment_urls: list[str] | None = None
    attachment_ids: list[str] | None = None
    error_details: Any = None
    customer_id: uuid.UUID | None = None
    idempotency_key: str | None = None


async def create_ticket(actor: Actor, new: NewTicket) -> Ticket:
    """createTicket: a manual ticket, idempotent on (customer, idempotencyKey)."""
    subject = clean_text(new.subject, "subject", limit=SUBJECT_MAX)
    description = clean_text(new.description, "description")
    key = clean_optional_text(new.idempotency_key, "idempotencyKey", limit=KEY_MAX)
    urls = clean_urls(
        new.attachment_urls,
        "attachmentUrls",
        allowed_hosts=actor.settings.attachment_hosts,
        limit=actor.settings.max_attachment_urls,
    )
    uploads = parse_attachment_ids(new.attachment_ids, ATTACHMENT_IDS, actor.settings.attachment_max_per_ticket)
    error_details = clean_json(new.error_details, "errorDetails", limit=actor.settings.max_json_bytes)
    check_priority(actor.viewer, new.priority, "priority")
    owner = await customer_for(actor.viewer, new.customer_id)
    if key is not None and (replay := await _existing_by_key(owner, key)) is not None:
        return replay
    try:
        async with transaction(actor) as tx:
            ticket = await insert_ticket(
                customer_id=owner,
                subject=subject,
                description=description,
                category=new.category,
                priority=new.priority or DEFAULT_PRIORITY[new.category],
                source=SOURCE_BY_ROLE[actor.viewer.role],
                idempotency_key=key,
                error_details=error_details,
                attachment_urls=urls,
            )
            await attach_pending(actor, uploads, ticket, None, ATTACHMENT_IDS)
            await tx.record(ticket, Change(EventType.CREATED))
    except IntegrityError:
        # A concurrent request with the same key won the race; its ticket is ours.
        if key is not None and (replay := await _existing_by_key(owner, key)) is not None:
            return replay
        raise
    return ticket


async def _existing_by_key(customer_id: uuid.UUID, key: str) -> Ticket | None:
    """The ticket an earlier request with this idempotency key created."""
    return await Ticket.filter(customer_id=customer_id, idempotency_key=key).first()


async def insert_ticket(
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
    """Number and store a new ticket (with its attachments and search document) inside the caller's
    transaction, which records CREATED."""
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
        # In an envelope: Tortoise's JSONField takes a bare str for JSON text, so a JSON string (an app's
        # stack trace, say) would not round-trip.
        error_details={"value": error_details} if error_details is not None else None,
    )
    await index_ticket(ticket)
    if attachment_urls:
        await Attachment.bulk_create(
            [Attachment(ticket_id=ticket.id, url=url, filename=filename_of(url)) for url in attachment_urls]
        )
    return ticket


@dataclass(frozen=True)
class TicketEdit:
    """What updateTicket changes; None leaves a field as it is."""

    subject: str | None = None
    description: str | None = None
    category: Category | None = None
    priority: Priority | None = None


async def update_ticket(actor: Actor, ticket_ref: str, edit: TicketEdit) -> Ticket:
    """updateTicket: edit subject, description, category or priority; UPDATED lists what changed."""
    values: dict[str, Any] = {}
    if edit.subject is not None:
        values["subject"] = clean_text(edit.subject, "subject", limit=SUBJECT_MAX)
    if edit.description is not None:
        values["description"] = clean_text(edit.description, "description")
    if edit.category is not None:
        values["category"] = edit.category
    if edit.priority is not None:
        values["priority"] = edit.priority
    if not values:
        raise validation("Give at least one field to change.", "input")
    check_priority(actor.viewer, edit.priority, "priority")
    async with transaction(actor) as tx:
        ticket = await ticket_for_update(actor.scope, ticket_ref)
        changed = {
            name: {"from": _plain(getattr(ticket, name)), "to": _plain(value)}
            for name, value in values.items()
            if getattr(ticket, name) != value
        }
        if changed:
            for name in changed:
                setattr(ticket, name, values[name])
            await ticket.save()
            if changed.keys() & {"subject", "description"}:
                await refresh_head(ticket)
            await tx.record(ticket, Change(EventType.UPDATED, changes=changed))
    return ticket


def _plain(value: object) -> object:
    return value.value if isinstance(value, Category | Priority) else value


async def change_status(actor: Actor, ticket_ref: str, to: Status, note: str | None) -> Ticket:
    """changeTicketStatus: one step of the workflow, with an optional internal note."""
    body = clean_optional_text(note, "note")
    if body is not None and not actor.scope.internal:
        raise UserError(UserErrorCode.FORBIDDEN, "Only agents and admins can attach internal notes.", ["note"])
    async with transaction(actor) as tx:
        ticket = await ticket_for_update(actor.scope, ticket_ref)
        if ticket.status is to:
            return ticket  # a retried tap: nothing to change, nothing to record
        changes = [transition(actor.viewer, ticket, to)]
        await ticket.save()
        if body is not None:
            message = await Message.create(
                ticket_id=ticket.id, sender_id=actor.viewer.id, sender_type=SenderType.AGENT, body=body, internal=True
            )
            await index_messages([message], limit=actor.settings.search_text_limit)
            changes.append(Change(EventType.NOTE_ADDED, message_id=message.id, internal=True))
        await tx.record(ticket, *changes)
    return ticket


async def assign_ticket(actor: Actor, ticket_ref: str, agent_id: uuid.UUID | None) -> Ticket:
    """assignTicket: give the ticket to an agent or admin, or (None) take it back."""
    agent = await assignee(agent_id) if agent_id is not None else None
    async with transaction(actor) as tx:
        ticket = await ticket_for_update(actor.scope, ticket_ref)
        new_id = agent.id if agent is not None else None
        if ticket.assignee_id != new_id:
            ticket.assignee_id = new_id
            await ticket.save()
            await tx.record(ticket, Change(EventType.ASSIGNED, assignee_id=new_id))
    return ticket
