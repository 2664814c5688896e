"""POST /webhooks/inbound/{source}: tickets from other systems, signed per Standard Webhooks with the source's
secret (verified with the `standardwebhooks` library: HMAC-SHA256 over `id.timestamp.body`, timestamps more than
5 minutes off refused).

Answers: 201 `{id, reference}` for a new ticket, 200 with the same for a replay of an `externalId` the source
sent before; 401 for an unknown source or a missing, bad or stale signature (one answer for all, so names of
sources do not leak); 422 `{errors: [{field, message}]}` for a body ticketdesk cannot take; 429 with
`Retry-After` over the source's rate limit (that of services, per source).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ticketdesk.auth import Viewer
from ticketdesk.errors import RateLimited, UserError
from ticketdesk.models import InboundSource
from ticketdesk.models.enums import Role
from ticketdesk.ratelimit import RateLimits
from ticketdesk.resolvers.inbound import open_inbound_ticket
from ticketdesk.resolvers.transaction import Actor, Publish
from ticketdesk.settings import Settings

PATH = "/webhooks/inbound/{source}"
UNVERIFIED = (
    "The request is not signed by a known source: send webhook-id, webhook-timestamp (within 5 minutes) and "
    "webhook-signature (v1,<base64 HMAC-SHA256 of id.timestamp.body with the source's secret>), Standard Webhooks."
)


def inbound_endpoint(
    settings: Settings, rates: RateLimits, publish: Publish
) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint receiving inbound tickets."""

    def actor_for(viewer: Viewer) -> Actor:
        return Actor(viewer, settings, publish)

    async def inbound(request: Request) -> Response:
        body = await request.body()
        source = await InboundSource.filter(name=request.path_params["source"]).first()
        if source is None or not _verified(source.secret, body, dict(request.headers)):
            return _errors(401, UNVERIFIED)
        try:
            await rates.charge(f"inbound:{source.id}", Role.SERVICE, cost=1, mutations=1)
        except RateLimited as exc:
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
            return _errors(429, exc.message, headers=headers)
        try:
            opened = await open_inbound_ticket(source, json.loads(body), actor_for)
        except (RecursionError, ValueError):
            return _errors(422, "The body is not JSON.", field="body")
        except UserError as exc:
            return _errors(422, exc.message, field=".".join(exc.field or ()) or None)
        ticket = opened.ticket
        return JSONResponse(
            {"id": str(ticket.id), "reference": ticket.reference}, status_code=201 if opened.created else 200
        )

    return inbound


def _verified(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except (WebhookVerificationError, ValueError, UnicodeDecodeError):
        # ValueError also covers malformed signature lists and base64 (binascii.Error is a ValueError).
        return False
    return True


def _errors(status: int, message: str, *, field: str | None = None, headers: dict[str, str] | None = None) -> Response:
    error: dict[str, str] = {"message": message}
    if field is not None:
        error["field"] = field
    return JSONResponse({"errors": [error]}, status_code=status, headers=headers)
