"""Messages between customer and agent, and agents' internal notes."""

from __future__ import annotations

from ticketdesk.auth import Viewer
from ticketdesk.context import Context
from ticketdesk.errors import UserError, UserErrorCode
from ticketdesk.models import Attachment, Message, Ticket
from ticketdesk.models.enums import EventType, Role, SenderType, Status
from ticketdesk.models.events import Change
from ticketdesk.resolvers.tickets import _filename, move
from ticketdesk.resolvers.unit import clean_text, clean_urls, find_ticket, write


async def add_message(
    context: Context, viewer: Viewer, ticket_ref: str, body: str, attachment_urls: list[str] | None
) -> tuple[Message, Ticket]:
    """addMessage: a customer's reply reopens a resolved ticket; a closed one takes no more messages."""
    text = clean_text(body, "body")
    urls = clean_urls(attachment_urls, "attachmentUrls", context.settings.attachment_hosts)
    async with write(context, viewer) as unit:
        ticket = await find_ticket(viewer, ticket_ref, for_update=True, field="ticketId")
        customer = viewer.role is Role.CUSTOMER
        if customer and ticket.status is Status.CLOSED:
            raise UserError(
                UserErrorCode.INVALID_TRANSITION,
                "This ticket is closed and takes no more messages; open a new ticket instead.",
                ["ticketId"],
            )
        message = await Message.create(
            ticket_id=ticket.id,
            sender_id=viewer.id,
            sender_type=SenderType.CUSTOMER if customer else SenderType.AGENT,
            body=text,
        )
        if urls:
            await Attachment.bulk_create(
                [
                    Attachment(ticket_id=ticket.id, message_id=message.id, url=url, filename=_filename(url))
                    for url in urls
                ]
            )
        changes = [Change(EventType.MESSAGE_ADDED, message_id=message.id)]
        if customer and ticket.status is Status.RESOLVED:
            changes.append(move(ticket, Status.REOPENED))
        await ticket.save()  # bumps updatedAt: the ticket has news
        await unit.record(ticket, *changes)
    return message, ticket


async def add_internal_note(context: Context, viewer: Viewer, ticket_ref: str, body: str) -> tuple[Message, Ticket]:
    """addInternalNote: a note only agents and admins ever see."""
    text = clean_text(body, "body")
    async with write(context, viewer) as unit:
        ticket = await find_ticket(viewer, ticket_ref, for_update=True, field="ticketId")
        message = await Message.create(
            ticket_id=ticket.id, sender_id=viewer.id, sender_type=SenderType.AGENT, body=text, internal=True
        )
        await ticket.save()
        await unit.record(ticket, Change(EventType.NOTE_ADDED, message_id=message.id))
    return message, ticket
