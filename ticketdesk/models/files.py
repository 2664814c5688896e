"""Keeping uploaded content: storing it before the rows that name it commit, and sweeping what nothing names.

The order that makes a crash harmless: an upload touches the content's `FileContent` row (committed at once),
writes the bytes to the content store, and only then commits the `Attachment` that names them. The sweep
removes, in this order: pending uploads older than the pending window; `FileContent` rows that no attachment
names and nobody touched within the grace period, with their bytes (deleted while the rows are locked, so an
upload touching the same content waits and then writes the bytes again); and bytes in the store that have no
`FileContent` row at all (a crash between writing bytes and touching would leave none, but a store shared by
hand or restored from a backup may hold such).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from ticketdesk.models.attachments import Attachment, FileContent
from ticketdesk.models.blobs import ContentStore

log = logging.getLogger("ticketdesk.files")

SWEEP_BATCH = 500


async def keep_content(store: ContentStore, sha256: str, size: int, source: Path) -> None:
    """Make content `sha256` (the bytes of `source`) stored and safe from the sweep for the grace period."""
    now = dt.datetime.now(dt.UTC)
    await FileContent.bulk_create(
        [FileContent(sha256=sha256, size=size, touched_at=now)], on_conflict=["sha256"], update_fields=["touched_at"]
    )
    await store.put(sha256, source)


@dataclass(frozen=True)
class Swept:
    """What one sweep removed."""

    pending: int
    contents: int
    leftovers: int


async def sweep(store: ContentStore, *, pending_before: dt.datetime, untouched_before: dt.datetime) -> Swept:
    """Remove expired pending uploads, then content nothing names (see the module's docstring)."""
    pending = await Attachment.filter(ticket_id=None, created_at__lt=pending_before).delete()
    contents = 0
    while True:
        async with in_transaction():
            # A redacted file keeps its row (and SHA-256) for the audit trail, but not its content.
            named = Subquery(Attachment.filter(sha256__not_isnull=True, redacted_at=None).values("sha256"))
            rows = (
                await FileContent.filter(touched_at__lt=untouched_before)
                .exclude(sha256__in=named)
                .select_for_update()
                .limit(SWEEP_BATCH)
                .values_list("sha256", flat=True)
            )
            for sha256 in rows:
                await store.delete(str(sha256))
            await FileContent.filter(sha256__in=list(rows)).delete()
        contents += len(rows)
        if len(rows) < SWEEP_BATCH:
            break
    leftovers = 0
    async for names in store.stored_before(untouched_before):
        known = {str(name) for name in await FileContent.filter(sha256__in=names).values_list("sha256", flat=True)}
        for name in names:
            if name not in known:
                await store.delete(name)
                leftovers += 1
    if pending or contents or leftovers:
        log.info("attachment sweep removed %d pending uploads, %d contents, %d leftovers", pending, contents, leftovers)
    return Swept(pending, contents, leftovers)
