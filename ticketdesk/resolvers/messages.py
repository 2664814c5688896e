"""Messages between customer and agent, and agents' internal notes."""

from __future__ import annotations

from ticketdesk.errors import UserError, UserErrorCode
from ticketdesk.models import Attachment, Message, Ticket
from ticketdesk.models.enums import EventType, Role, SenderType, Status
from ticketdesk.models.events import Change
from ticketdesk.models.search import index_messages
from ticketdesk.resolvers.attachments import attach_pending, parse_attachment_ids
from ticketdesk.resolvers.lookup import ticket_for_update
from ticketdesk.resolvers.transaction import Actor, transaction
from ticketdesk.resolvers.validation import clean_text, clean_urls, filename_of
from ticketdesk.resolvers.workflow import transition


async def add_message(
    actor: Actor,
    ticket_ref: str,
    body: str,
    attachment_urls: list[str] | None,
    attachment_ids: list[str] | None = None,
) -> tuple[Message, Ticket]:
    """addMessage: a customer's reply reopens a resolved ticket; a closed one takes no more from them."""
    text = clean_text(body, "body")
    urls = clean_urls(
        attachment_urls,
        "attachmentUrls",
        allowed_hosts=actor.settings.attachment_hosts,
        limit=actor.settings.max_attachment_urls,
    )
    uploads = parse_attachment_ids(attachment_ids, "attachmentIds", actor.settings.attachment_max_per_ticket)
    customer = actor.viewer.role is Role.CUSTOMER
    async with transaction(actor) as tx:
        ticket = await ticket_for_update(actor.scope, ticket_ref, "ticketId")
        if customer and ticket.status is Status.CLOSED:
            raise UserError(
                UserErrorCode.INVALID_TRANSITION,
                "This ticket is closed and takes no more messages; open a new ticket instead.",
                ["ticketId"],
            )
        message = await Message.create(
            ticket_id=ticket.id,
            sender_id=actor.viewer.id,
            sender_type=SenderType.CUSTOMER if customer else SenderType.AGENT,
            body=text,
        )
        await index_messages([message], limit=actor.settings.search_text_limit)
        if urls:
            await Attachment.bulk_create(
                [
                    Attachment(ticket_id=ticket.id, message_id=message.id, url=url, filename=filename_of(url))
                    for url in urls
                ]
            )
        await attach_pending(actor, uploads, ticket, message.id, "attachmentIds")
        changes = [Change(EventType.MESSAGE_ADDED, message_id=message.id)]
        if customer and ticket.status is Status.RESOLVED:
            changes.append(transition(actor.viewer, ticket, Status.REOPENED, "ticketId"))
        await ticket.save()  # bumps updatedAt: the ticket has news
        await tx.record(ticket, *changes)
    return message, ticket


async def add_internal_note(actor: Actor, ticket_ref: str, body: str) -> tuple[Message, Ticket]:
    """addInternalNote: a note only agents and admins ever see."""
    text = clean_text(body, "body")
    async with transaction(actor) as tx:
        ticket = await ticket_for_update(actor.scope, ticket_ref, "ticketId")
        message = await Message.create(
            ticket_id=ticket.id, sender_id=actor.viewer.id, sender_type=SenderType.AGENT, body=text, internal=True
        )
        await index_messages([message], limit=actor.settings.search_text_limit)
        # updatedAt stays: customers see it, and a note is nothing they should notice.
        await tx.record(ticket, Change(EventType.NOTE_ADDED, message_id=message.id, internal=True))
    return message, ticket
