"""Attachments: links a client gave, and uploaded files whose content is kept by SHA-256.

An uploaded file is two things: its `Attachment` row (who uploaded it, to which ticket and message, its name,
whether it is internal) and its content, named by its SHA-256 so that the same bytes uploaded twice are stored
once. `FileContent` records that some content exists; where its bytes live is the content store's business
(ticketdesk.models.blobs: these tables' `ContentChunk`s by default, or an object store).

Bytes are always stored before the rows that name them are committed, and a `FileContent` row is touched just
before its bytes are (re)written: the sweep removes content that no attachment names only once it has been left
untouched for a while, so it never takes bytes from under an upload still on its way to commit, and bytes left
behind by a crash before commit are removed with the rest.

Redaction (not offered yet) would delete a file's content and set `redacted_at`; the `Attachment` row stays,
with its name, size and SHA-256, for the audit trail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from ticketdesk.models.enums import AttachmentKind

if TYPE_CHECKING:
    from ticketdesk.models.messages import Message
    from ticketdesk.models.tickets import Ticket

URL_MAX = 2048
SHA256_HEX = 64


class Attachment(Model):
    """A link or an uploaded file; a file without a ticket is a pending upload of `uploader_id`."""

    id = fields.UUIDField(primary_key=True)
    # db_default as well: the column is added to tables that already hold rows (all of them links).
    kind = fields.CharEnumField(
        AttachmentKind, max_length=8, default=AttachmentKind.LINK, db_default=AttachmentKind.LINK
    )
    ticket: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="attachments", null=True, on_delete=fields.CASCADE
    )
    message: fields.ForeignKeyNullableRelation[Message] = fields.ForeignKeyField(
        "models.Message", related_name="attachments", null=True, on_delete=fields.CASCADE
    )
    uploader_id = fields.UUIDField(null=True, db_index=True)
    # Staff's files that customers never see (like internal notes).
    internal = fields.BooleanField(default=False, db_default=False)
    url = fields.CharField(max_length=URL_MAX, null=True)  # LINK only
    filename = fields.CharField(max_length=255, null=True)
    content_type = fields.CharField(max_length=255, null=True)
    size = fields.BigIntField(null=True)
    sha256 = fields.CharField(max_length=SHA256_HEX, null=True, db_index=True)  # FILE only
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    redacted_at = fields.DatetimeField(null=True)

    ticket_id: UUID | None
    message_id: UUID | None

    class Meta:
        table = "attachments"
        ordering = ("created_at",)


class FileContent(Model):
    """Content some upload stored, by SHA-256."""

    sha256 = fields.CharField(max_length=SHA256_HEX, primary_key=True)
    size = fields.BigIntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    # Set just before an upload (re)writes the bytes: the sweep leaves recently touched content alone.
    touched_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "attachment_contents"


class ContentChunk(Model):
    """A slice of some content's bytes, for the `database` content store."""

    id = fields.BigIntField(primary_key=True)
    sha256 = fields.CharField(max_length=SHA256_HEX)
    position = fields.IntField()  # 0, 1, 2, ...: the chunk's place in the content
    data = fields.BinaryField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "attachment_chunks"
        unique_together = (("sha256", "position"),)
