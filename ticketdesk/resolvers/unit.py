"""The shape every mutation shares: one transaction for the change and its events, publish after commit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tortoise.transactions import in_transaction

from ticketdesk.auth import Viewer, owns
from ticketdesk.context import Context
from ticketdesk.errors import not_found, validation
from ticketdesk.models import Ticket, TicketEvent
from ticketdesk.models.events import Change, record
from ticketdesk.models.messages import BODY_MAX, URL_MAX
from ticketdesk.models.tickets import REFERENCE_PREFIX


@dataclass
class Unit:
    """One mutation's transaction; `record` appends events, published once the transaction commits."""

    viewer: Viewer
    events: list[TicketEvent] = field(default_factory=list)

    async def record(self, ticket: Ticket, *changes: Change) -> None:
        """Record `changes` of `ticket` as events; call after the change's own writes."""
        self.events.extend(await record(ticket, self.viewer.id, self.viewer.role, list(changes)))


@asynccontextmanager
async def write(context: Context, viewer: Viewer) -> AsyncIterator[Unit]:
    """Run the body in one transaction; any exception (UserError included) rolls everything back."""
    unit = Unit(viewer)
    async with in_transaction():
        yield unit
    if unit.events:
        await context.hub.publish(unit.events)


def parse_ticket_ref(value: str) -> dict[str, object] | None:
    """A filter for a ticket given by UUID or reference (TCK-000042); None when it is neither."""
    text = value.strip()
    if text.upper().startswith(REFERENCE_PREFIX) and text[len(REFERENCE_PREFIX) :].isdigit():
        return {"number": int(text[len(REFERENCE_PREFIX) :])}
    try:
        return {"id": uuid.UUID(text)}
    except ValueError:
        return None


async def find_ticket(viewer: Viewer, ticket_ref: str, *, for_update: bool = False, field: str = "id") -> Ticket:
    """The ticket the viewer may see, locked for the transaction when `for_update`; else NOT_FOUND."""
    lookup = parse_ticket_ref(ticket_ref)
    if lookup is None:
        raise not_found("ticket", (field,))
    query = Ticket.filter(**lookup)
    if for_update:
        query = query.select_for_update()
    ticket = await query.first()
    if ticket is None or not owns(viewer, ticket.customer_id):
        raise not_found("ticket", (field,))
    return ticket


def clean_text(value: str, field: str, *, limit: int = BODY_MAX, required: bool = True) -> str:
    """`value` trimmed, refused (VALIDATION) when empty or longer than `limit` characters."""
    text = value.strip()
    if required and not text:
        raise validation(f"{field} must not be empty.", field)
    if len(text) > limit:
        raise validation(f"{field} is {len(text)} characters long; the limit is {limit}.", field)
    return text


def clean_optional_text(value: str | None, field: str, *, limit: int = BODY_MAX) -> str | None:
    """Like clean_text, but None and blank mean 'not given'."""
    if value is None:
        return None
    return clean_text(value, field, limit=limit, required=False) or None


def clean_urls(urls: list[str] | None, field: str, allowed_hosts: list[str]) -> list[str]:
    """Attachment URLs: https only, of an allowed host when hosts are configured."""
    cleaned: list[str] = []
    for index, raw in enumerate(urls or []):
        url = raw.strip()
        parts = urlsplit(url)
        where = (field, str(index))
        if len(url) > URL_MAX:
            raise validation(f"An attachment URL may be at most {URL_MAX} characters long.", *where)
        if parts.scheme != "https" or not parts.hostname:
            raise validation("Attachment URLs must be absolute https:// URLs.", *where)
        if allowed_hosts and parts.hostname.lower() not in allowed_hosts:
            raise validation(f"Attachments may only come from: {', '.join(allowed_hosts)}.", *where)
        cleaned.append(url)
    return cleaned
