"""Delivering ticket events to outbound webhooks, per the Standard Webhooks specification.

Each process runs one `WebhookWorker`. For every enabled webhook that is due, it takes the webhook's lease (the
row, locked FOR UPDATE SKIP LOCKED on PostgreSQL for the whole attempt: one process at a time per webhook; a
process that dies mid-attempt releases it, the position unmoved), reads the next event after the webhook's
position that it asked for and may see, and POSTs it signed with `standardwebhooks`: `webhook-id` is the event's
cursor (the receiver's idempotency key, the same on every retry). A 2xx within the timeout moves the position
on; anything else is retried with exponential backoff and jitter while later events wait, and a webhook failing
for TICKETDESK_WEBHOOK_DISABLE_HOURS is disabled (re-enabled, it resumes from its position: nothing is skipped).

Receivers are reached SSRF-safely: https only (plain http to loopback in development), no redirects followed,
at most RESPONSE_LIMIT bytes of an answer read, and outside development no private, loopback or link-local
address, checked on the addresses the connection really uses (aiohttp's resolver), so DNS rebinding gains
nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import json
import logging
import random
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from standardwebhooks.webhooks import Webhook as Signer
from tortoise import connections
from tortoise.transactions import in_transaction

from ticketdesk.errors import validation
from ticketdesk.models import Message, Ticket, TicketEvent, Webhook, WebhookDelivery
from ticketdesk.models.enums import DeliveryStatus
from ticketdesk.models.events import latest_seq
from ticketdesk.parsing import event_cursor
from ticketdesk.policy import Scope
from ticketdesk.settings import Settings

log = logging.getLogger("ticketdesk.webhooks")

RESPONSE_LIMIT = 4096
MAX_RETRY_SECONDS = 3600.0
CONCURRENT_WEBHOOKS = 4
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def private_allowed(settings: Settings) -> bool:
    """Whether receivers may be on private, loopback or link-local addresses."""
    return settings.development or settings.webhook_allow_private


def check_url(url: str, settings: Settings) -> str:
    """A webhook URL as ticketdesk accepts it: https (http to loopback in development), no credentials, under 2 KiB;
    VALIDATION on `url` otherwise. Where it resolves to is checked at every delivery (and by `check_resolves`)."""
    parts = urlsplit(url)
    try:
        host, _ = parts.hostname, parts.port
    except ValueError:
        raise validation("The URL's port is not a number between 0 and 65535.", "url") from None
    if len(url) > 2048 or not host or any(char.isspace() for char in url):
        raise validation("A webhook URL is an absolute https:// URL of at most 2,048 characters.", "url")
    if parts.username or parts.password:
        raise validation("A webhook URL must not carry a user name or password (the signature authenticates).", "url")
    loopback_http = parts.scheme == "http" and host in LOOPBACK_NAMES and settings.development
    if parts.scheme != "https" and not loopback_http:
        raise validation("Webhook URLs must be https:// (plain http only to loopback, in development).", "url")
    return url


async def check_resolves(url: str, settings: Settings) -> None:
    """Refuse (VALIDATION on `url`) a receiver that resolves to no address ticketdesk may deliver to."""
    if private_allowed(settings):
        return
    try:
        await GuardedResolver(allow_private=False).resolve_all(urlsplit(url).hostname or "")
    except OSError as exc:
        raise validation(f"The URL cannot receive webhooks: {exc}.", "url") from None


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, keeping only public addresses (unless private ones are allowed)."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private
        self.inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        if self.allow_private:
            return results
        public = [result for result in results if _public(result["host"])]
        if not public:
            raise OSError(f"{host} resolves only to private, loopback or link-local addresses")
        return public

    async def resolve_all(self, host: str) -> None:
        """Resolve `host` as a delivery would (an address literal checked as it is)."""
        with contextlib.suppress(ValueError):
            if not self.allow_private and not _public(host.strip("[]")):
                raise OSError(f"{host} is a private, loopback or link-local address")
            return
        await self.resolve(host, 443, socket.AF_UNSPEC)

    async def close(self) -> None:
        await self.inner.close()


@dataclass(frozen=True)
class Outcome:
    """How a receiver answered: its status (None when there was no answer) or what went wrong."""

    status: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        """A 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


async def post(url: str, body: str, headers: dict[str, str], settings: Settings) -> Outcome:
    """POST `body` to a receiver: no redirects, the timeout for the whole exchange, a bounded read of the answer."""
    resolver = GuardedResolver(allow_private=private_allowed(settings))
    try:
        await resolver.resolve_all(urlsplit(url).hostname or "")
        connector = aiohttp.TCPConnector(resolver=resolver, force_close=True)
        timeout = aiohttp.ClientTimeout(total=settings.webhook_timeout_seconds)
        async with (
            aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
            session.post(url, data=body.encode(), headers=headers, allow_redirects=False) as response,
        ):
            await response.content.read(RESPONSE_LIMIT)
            error = None if 200 <= response.status < 300 else f"HTTP {response.status}"
            return Outcome(response.status, error)
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
        return Outcome(None, (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:500])
    finally:
        await resolver.close()


def payload(event: TicketEvent, ticket: Ticket, message: Message | None) -> dict[str, Any]:
    """The Standard Webhooks body of an event: `{type, timestamp, data: {cursor, ticketId, ticket, event}}`."""
    cursor = event_cursor(event.seq)
    return {
        "type": event.type.value,
        "timestamp": event.occurred_at.isoformat(),
        "data": {
            "cursor": cursor,
            "ticketId": str(ticket.id),
            "ticket": {
                "id": str(ticket.id),
                "reference": ticket.reference,
                "number": ticket.number,
                "customerId": str(ticket.customer_id),
                "subject": ticket.subject,
                "status": ticket.status.value,
                "priority": ticket.priority.value,
                "category": ticket.category.value,
                "source": ticket.source.value,
                "assigneeId": str(ticket.assignee_id) if ticket.assignee_id else None,
                "createdAt": ticket.created_at.isoformat(),
                "updatedAt": ticket.updated_at.isoformat(),
                "resolvedAt": ticket.resolved_at.isoformat() if ticket.resolved_at else None,
            },
            "event": {
                "cursor": cursor,
                "type": event.type.value,
                "actorId": str(event.actor_id) if event.actor_id else None,
                "actorRole": event.actor_role.value if event.actor_role else None,
                "occurredAt": event.occurred_at.isoformat(),
                "fromStatus": event.from_status.value if event.from_status else None,
                "toStatus": event.to_status.value if event.to_status else None,
                "message": {"id": str(message.id), "body": message.body, "internal": message.internal}
                if message is not None
                else None,
                "attachmentId": str(event.attachment_id) if event.attachment_id else None,
                "escalationId": str(event.escalation_id) if event.escalation_id else None,
                "assigneeId": str(event.assignee_id) if event.assignee_id else None,
                "changes": event.changes,
            },
        },
    }


async def deliver(webhook: Webhook, event: TicketEvent, settings: Settings) -> Outcome:
    """Send one event to one webhook, signed; the webhook's scope decides what the body shows."""
    ticket = await Ticket.get(id=event.ticket_id)
    scope = Scope(customer_id=None, internal=webhook.include_internal)
    message = await Message.filter(id=event.message_id).first() if event.message_id is not None else None
    if message is not None and not scope.sees_message(message.internal):
        message = None
    body = json.dumps(payload(event, ticket, message), separators=(",", ":"))
    msg_id, now = event_cursor(event.seq), dt.datetime.now(dt.UTC)
    headers = {
        "content-type": "application/json",
        "user-agent": "ticketdesk-webhooks",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Signer(webhook.secret).sign(msg_id, now, body),
    }
    return await post(webhook.url, body, headers, settings)


async def record(webhook: Webhook, event: TicketEvent, outcome: Outcome, settings: Settings, *, advance: bool) -> None:
    """Note an attempt: move the webhook on, or schedule its retry (disabling it after too long); keep the
    newest deliveries only."""
    now = dt.datetime.now(dt.UTC)
    next_attempt: dt.datetime | None = None
    attempt = webhook.attempt + 1 if advance else 1
    # Only what delivering decides: an admin's change made meanwhile (url, events, ...) stays.
    changed = ["position", "attempt", "next_attempt_at", "failing_since", "last_delivery_at"]
    if advance and outcome.delivered:
        webhook.position = event.seq
        webhook.attempt, webhook.next_attempt_at, webhook.failing_since = 0, None, None
        webhook.last_delivery_at = now
    elif advance:
        webhook.attempt += 1
        delay = min(settings.webhook_retry_seconds * 2 ** (webhook.attempt - 1), MAX_RETRY_SECONDS)
        next_attempt = now + dt.timedelta(seconds=delay * random.uniform(0.5, 1.0))
        webhook.next_attempt_at = next_attempt
        webhook.failing_since = webhook.failing_since or now
        if now - webhook.failing_since >= dt.timedelta(hours=settings.webhook_disable_hours):
            webhook.enabled = False
            changed.append("enabled")
            log.warning("webhook %s disabled after failing since %s", webhook.id, webhook.failing_since)
    if advance:
        await webhook.save(update_fields=changed)
    await WebhookDelivery.create(
        webhook_id=webhook.id,
        event_seq=event.seq,
        event_type=event.type,
        attempt=attempt,
        status=DeliveryStatus.SUCCEEDED if outcome.delivered else DeliveryStatus.FAILED,
        response_code=outcome.status,
        error=outcome.error,
        next_attempt_at=next_attempt,
    )
    old = await (
        WebhookDelivery.filter(webhook_id=webhook.id)
        .order_by("-created_at")
        .offset(settings.webhook_delivery_retention)
        .values_list("id", flat=True)
    )
    if old:
        await WebhookDelivery.filter(id__in=list(old)).delete()


class WebhookWorker:
    """This process's delivery of every due webhook, one event at a time each, several webhooks at once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._slots = asyncio.Semaphore(CONCURRENT_WEBHOOKS)

    async def run_forever(self) -> None:
        """Deliver until cancelled; look again at once after delivering, else after the poll interval."""
        while True:
            await asyncio.sleep(self.settings.webhook_poll_seconds)
            while await self.deliver_due():
                pass

    async def deliver_due(self) -> bool:
        """One event to each webhook that is due and has one; whether any was sent."""
        now = dt.datetime.now(dt.UTC)
        due = await Webhook.filter(enabled=True).values_list("id", "next_attempt_at")
        ids = [webhook_id for webhook_id, at in due if at is None or at <= now]
        return any(await asyncio.gather(*(self._deliver_next(webhook_id) for webhook_id in ids)))

    async def _deliver_next(self, webhook_id: Any) -> bool:
        async with self._slots, _lease(webhook_id) as webhook:
            if webhook is None:
                return False
            now = dt.datetime.now(dt.UTC)
            if webhook.next_attempt_at is not None and webhook.next_attempt_at > now:
                return False
            # Every event up to `latest` has committed (the log is numbered in commit order): when none of them is
            # one this webhook takes, its position may move there.
            latest = await latest_seq()
            scope = Scope(customer_id=None, internal=webhook.include_internal)
            event = (
                await TicketEvent.filter(
                    scope.events(), seq__gt=webhook.position, seq__lte=latest, type__in=webhook.event_types()
                )
                .order_by("seq")
                .first()
            )
            if event is None:
                if latest > webhook.position:
                    webhook.position = latest
                    await webhook.save(update_fields=["position"])
                return False
            outcome = await deliver(webhook, event, self.settings)
            await record(webhook, event, outcome, self.settings, advance=True)
            return True


@contextlib.asynccontextmanager
async def _lease(webhook_id: Any) -> AsyncIterator[Webhook | None]:
    """The webhook, held for the attempt: on PostgreSQL its row locked (skipped if another process holds it) in a
    transaction that ends with the attempt; an SQLite store belongs to one process, which holds no transaction
    while a receiver answers (SQLite's would stop every other write)."""
    if connections.get("default").capabilities.dialect != "postgres":
        yield await Webhook.filter(id=webhook_id, enabled=True).first()
        return
    async with in_transaction():
        yield await Webhook.filter(id=webhook_id, enabled=True).select_for_update(skip_locked=True).first()
