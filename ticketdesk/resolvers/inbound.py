"""Tickets from other systems: inbound sources (createInboundSource) and the tickets their signed requests open."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError

from ticketdesk.auth import NEVER_EXPIRES, Viewer
from ticketdesk.errors import BadUserInput, UserError, UserErrorCode, validation
from ticketdesk.models import InboundSource, Ticket
from ticketdesk.models.enums import Category, Priority, Role
from ticketdesk.models.inbound import NAME_MAX
from ticketdesk.parsing import parse_uuid
from ticketdesk.resolvers.tickets import KEY_MAX, NewTicket, create_ticket
from ticketdesk.resolvers.transaction import Actor
from ticketdesk.resolvers.webhooks import new_secret

NAME = re.compile(rf"[a-z0-9][a-z0-9-]{{0,{NAME_MAX - 1}}}")
EXTERNAL_ID_MAX = 200


async def create_inbound_source(name: str) -> tuple[str, str]:
    """createInboundSource: a new source and its secret, which is shown this once."""
    if not NAME.fullmatch(name):
        raise validation(
            f"A source's name is 1-{NAME_MAX} lowercase letters, digits and hyphens, starting with a letter or digit "
            "(it becomes part of the URL /webhooks/inbound/<name>).",
            "name",
        )
    secret = new_secret()
    try:
        await InboundSource.create(name=name, secret=secret)
    except IntegrityError:
        raise UserError(UserErrorCode.CONFLICT, f"A source named {name!r} exists already.", ["name"]) from None
    return name, secret


@dataclass(frozen=True)
class Opened:
    """What an inbound request led to: its ticket, and whether this request created it (else it is a replay)."""

    ticket: Ticket
    created: bool


async def open_inbound_ticket(source: InboundSource, body: Any, actor_for: Callable[[Viewer], Actor]) -> Opened:
    """A verified request's ticket: created with source WEBHOOK for `customerId`, idempotent on (source,
    externalId). `actor_for(viewer)` gives the Actor that files it (settings and publisher of the process)."""
    if not isinstance(body, dict):
        raise validation("The body must be a JSON object: {customerId, subject, description, externalId, ...}.", "body")
    external_id = _text(body, "externalId", EXTERNAL_ID_MAX)
    # The source's own key space: a customer's idempotency keys cannot name it.
    key = f"inbound/{source.id}/{external_id}"
    assert len(key) <= KEY_MAX
    if (existing := await Ticket.filter(idempotency_key=key).first()) is not None:
        return Opened(existing, created=False)
    try:
        customer = parse_uuid(_text(body, "customerId", 100), "customerId")
    except BadUserInput as exc:
        raise validation(exc.message, "customerId") from None
    new = NewTicket(
        subject=_text(body, "subject", None),
        description=_text(body, "description", None),
        category=_choice(body, "category", Category, Category.OTHER),
        priority=_choice(body, "priority", Priority, None),
        customer_id=customer,
        idempotency_key=key,
    )
    viewer = Viewer(
        id=source.id, role=Role.SERVICE, name=f"inbound:{source.name}", email=None, expires_at=NEVER_EXPIRES
    )
    # Two identical requests at the same instant both get 201 and the same ticket: create_ticket's own
    # idempotency makes the second a replay.
    return Opened(await create_ticket(actor_for(viewer), new), created=True)


def _text(body: dict[str, Any], field: str, limit: int | None) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise validation(f"{field} is required: a non-empty string.", field)
    if limit is not None and len(value) > limit:
        raise validation(f"{field} may be at most {limit} characters long.", field)
    return value


def _choice(body: dict[str, Any], field: str, kind: Any, default: Any) -> Any:
    value = body.get(field)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        raise validation(f"{field} must be one of {', '.join(member.value for member in kind)}.", field) from None
