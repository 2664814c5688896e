"""Uploaded files: uploadAttachment, and the pending uploads createTicket and addMessage attach by id."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

from ticketdesk.errors import BadUserInput, UserError, UserErrorCode, validation
from ticketdesk.models import Attachment, Ticket
from ticketdesk.models.blobs import ContentStore
from ticketdesk.models.enums import AttachmentKind, EventType, Role
from ticketdesk.models.events import Change
from ticketdesk.models.files import keep_content
from ticketdesk.parsing import parse_uuid
from ticketdesk.resolvers.lookup import ticket_for_update, visible_ticket
from ticketdesk.resolvers.transaction import Actor, transaction
from ticketdesk.uploads import ReceivedFile


async def upload_attachment(
    actor: Actor, store: ContentStore, file: ReceivedFile, ticket_ref: str | None, internal: bool
) -> tuple[Attachment, Ticket | None]:
    """uploadAttachment: a pending upload of the caller, or (with a ticket) a file of that ticket at once."""
    if file.refusal is not None or file.path is None or file.content_type is None:
        raise validation(file.refusal or "The file was not received.", "file")
    if internal and actor.viewer.role is Role.CUSTOMER:
        raise UserError(UserErrorCode.FORBIDDEN, "Only agents and admins can upload internal files.", ["internal"])
    if ticket_ref is None:
        return await _pending(actor, store, file, file.path, internal), None
    # Checked before the bytes are stored, so a caller cannot fill the store through tickets they cannot see.
    if await visible_ticket(actor.scope, ticket_ref, "ticketId") is None:
        raise UserError(UserErrorCode.NOT_FOUND, "No ticket with that id exists.", ["ticketId"])
    await keep_content(store, file.sha256, file.size, file.path)
    async with transaction(actor) as tx:
        ticket = await ticket_for_update(actor.scope, ticket_ref, "ticketId")
        await _check_room(actor, ticket, 1, "file")
        attachment = _file_row(actor, file, internal, ticket.id)
        await attachment.save()
        if not internal:
            await ticket.save()  # bumps updatedAt: the customer has news; an internal file is nothing they see
        await tx.record(ticket, Change(EventType.ATTACHMENT_ADDED, attachment_id=attachment.id, internal=internal))
    return attachment, ticket


async def _pending(actor: Actor, store: ContentStore, file: ReceivedFile, path: Path, internal: bool) -> Attachment:
    limit = actor.settings.attachment_max_pending
    if await Attachment.filter(uploader_id=actor.viewer.id, ticket_id=None).count() >= limit:
        raise validation(
            f"You already hold {limit} uploads not attached to a ticket; name them in createTicket or addMessage "
            f"(attachmentIds) first, or wait until unattached uploads expire "
            f"({actor.settings.attachment_pending_hours:g} h after upload).",
            "file",
        )
    await keep_content(store, file.sha256, file.size, path)
    attachment = _file_row(actor, file, internal, None)
    await attachment.save()
    return attachment


def _file_row(actor: Actor, file: ReceivedFile, internal: bool, ticket_id: uuid.UUID | None) -> Attachment:
    return Attachment(
        kind=AttachmentKind.FILE,
        ticket_id=ticket_id,
        uploader_id=actor.viewer.id,
        internal=internal,
        filename=file.filename,
        content_type=file.content_type,
        size=file.size,
        sha256=file.sha256,
    )


def parse_attachment_ids(values: Sequence[str] | None, field: str, limit: int) -> list[uuid.UUID]:
    """The ids of pending uploads a mutation names, each once; VALIDATION when malformed or too many."""
    if not values:
        return []
    if len(values) > limit:
        raise validation(f"At most {limit} attachments can be named at once.", field)
    ids: list[uuid.UUID] = []
    for value in values:
        try:
            parsed = parse_uuid(value, field)
        except BadUserInput as exc:
            raise validation(exc.message, field) from None
        if parsed not in ids:
            ids.append(parsed)
    return ids


async def attach_pending(
    actor: Actor, ids: list[uuid.UUID], ticket: Ticket, message_id: uuid.UUID | None, field: str
) -> None:
    """Inside the caller's transaction: give the caller's pending uploads `ids` to `ticket` (and its message)."""
    if not ids:
        return
    rows = await Attachment.filter(
        id__in=ids, uploader_id=actor.viewer.id, ticket_id=None, kind=AttachmentKind.FILE
    ).select_for_update()
    if len(rows) != len(ids):
        hours = actor.settings.attachment_pending_hours
        raise validation(
            f"{field} names an upload that is not yours, already attached, or expired (uploads are kept {hours:g} h "
            "until attached); upload the file again with uploadAttachment.",
            field,
        )
    await _check_room(actor, ticket, len(ids), field)
    await Attachment.filter(id__in=ids).update(ticket_id=ticket.id, message_id=message_id)


async def _check_room(actor: Actor, ticket: Ticket, adding: int, field: str) -> None:
    """Refuse going over the attachments a ticket may have (the caller holds the ticket's lock)."""
    limit = actor.settings.attachment_max_per_ticket
    if await Attachment.filter(ticket_id=ticket.id).count() + adding > limit:
        raise validation(f"A ticket can have at most {limit} attachments; this one has no room for more.", field)
