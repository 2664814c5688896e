"""Outbound webhooks as admins manage them: create, change, enable or disable, delete, rotate the secret, see the
deliveries and send one again. Delivering is ticketdesk.outbound's."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.expressions import Q

from ticketdesk import outbound
from ticketdesk.errors import BadUserInput, not_found
from ticketdesk.models import TicketEvent, Webhook, WebhookDelivery
from ticketdesk.models.enums import DeliveryStatus, EventType
from ticketdesk.models.events import latest_seq
from ticketdesk.parsing import parse_uuid
from ticketdesk.resolvers.validation import clean_optional_text
from ticketdesk.settings import Settings

SECRET_BYTES = 32
DESCRIPTION_MAX = 500
DELIVERIES_PAGE = 20


def new_secret() -> str:
    """A signing secret in Standard Webhooks' form (outbound webhooks' and inbound sources')."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


@dataclass(frozen=True)
class WebhookEdit:
    """What createWebhook / updateWebhook set; None leaves a field as it is (update) or takes its default."""

    url: str | None = None
    events: Sequence[EventType] | None = None
    include_internal: bool | None = None
    description: str | None = None
    enabled: bool | None = None


async def create_webhook(settings: Settings, new: WebhookEdit) -> tuple[Webhook, str]:
    """createWebhook: deliveries start with the next event; the secret is returned this once."""
    url = outbound.check_url(new.url or "", settings)
    await outbound.check_resolves(url, settings)
    secret = new_secret()
    webhook = await Webhook.create(
        url=url,
        events=sorted({event.value for event in new.events or ()}),
        include_internal=bool(new.include_internal),
        description=clean_optional_text(new.description, "description", limit=DESCRIPTION_MAX),
        secret=secret,
        position=await latest_seq(),
    )
    return webhook, secret


async def update_webhook(settings: Settings, webhook_ref: str, edit: WebhookEdit) -> Webhook:
    """updateWebhook; enabling a disabled or failing webhook retries at once and resumes from its position."""
    webhook = await _webhook(webhook_ref)
    if edit.url is not None:
        webhook.url = outbound.check_url(edit.url, settings)
        await outbound.check_resolves(webhook.url, settings)
    if edit.events is not None:
        webhook.events = sorted({event.value for event in edit.events})
    if edit.include_internal is not None:
        webhook.include_internal = edit.include_internal
    if edit.description is not None:
        webhook.description = clean_optional_text(edit.description, "description", limit=DESCRIPTION_MAX)
    changed = ["url", "events", "include_internal", "description", "enabled"]
    if edit.enabled is not None:
        if edit.enabled and not webhook.enabled:
            webhook.attempt, webhook.next_attempt_at, webhook.failing_since = 0, None, None
            changed += ["attempt", "next_attempt_at", "failing_since"]
        webhook.enabled = edit.enabled
    # Not its position, which the worker moves meanwhile.
    await webhook.save(update_fields=changed)
    return webhook


async def delete_webhook(webhook_ref: str) -> Webhook:
    """deleteWebhook: it and its deliveries are gone; the payload shows what it was."""
    webhook = await _webhook(webhook_ref)
    await webhook.delete()
    return webhook


async def rotate_secret(webhook_ref: str) -> tuple[Webhook, str]:
    """rotateWebhookSecret: deliveries are signed with the new secret from now on."""
    webhook = await _webhook(webhook_ref)
    webhook.secret = new_secret()
    await webhook.save(update_fields=["secret"])
    return webhook, webhook.secret


async def redeliver(settings: Settings, delivery_ref: str) -> Webhook:
    """redeliverWebhook: send a delivery's event once more now (same webhook-id), recorded as a new delivery; the
    webhook's position and retries are untouched."""
    try:
        delivery = await WebhookDelivery.filter(id=parse_uuid(delivery_ref, "deliveryId")).first()
    except BadUserInput:
        delivery = None
    if delivery is None:
        raise not_found("delivery", ("deliveryId",))
    webhook = await Webhook.get(id=delivery.webhook_id)
    event = await TicketEvent.get(seq=delivery.event_seq)
    outcome = await outbound.deliver(webhook, event, settings)
    await outbound.record(webhook, event, outcome, settings, advance=False)
    return webhook


async def list_webhooks() -> list[Webhook]:
    """webhooks: every webhook, oldest first."""
    return list(await Webhook.all())


@dataclass(frozen=True)
class DeliveryPage:
    """A page of a webhook's deliveries, newest first."""

    deliveries: list[WebhookDelivery]
    has_next: bool


async def list_deliveries(
    webhook_ref: str, status: DeliveryStatus | None, first: int | None, after: str | None, max_page: int
) -> DeliveryPage:
    """webhookDeliveries: newest first; `after` is a delivery's cursor (`delivery_cursor`)."""
    size = DELIVERIES_PAGE if first is None else first
    if not 1 <= size <= max_page:
        raise BadUserInput(f"`first` must be between 1 and {max_page}.")
    query = WebhookDelivery.filter(webhook_id=parse_uuid(webhook_ref, "webhookId"))
    if status is not None:
        query = query.filter(status=status)
    if after is not None:
        created, delivery_id = _parse_cursor(after)
        query = query.filter(Q(created_at__lt=created) | Q(created_at=created, id__lt=delivery_id))
    rows = list(await query.order_by("-created_at", "-id").limit(size + 1))
    return DeliveryPage(rows[:size], has_next=len(rows) > size)


def delivery_cursor(delivery: WebhookDelivery) -> str:
    """Where a delivery stands in its webhook's list."""
    text = f"delivery:{delivery.created_at.isoformat()}|{delivery.id}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def _parse_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
        created, _, delivery_id = text.removeprefix("delivery:").partition("|")
        if not text.startswith("delivery:"):
            raise ValueError(text)
        return dt.datetime.fromisoformat(created), uuid.UUID(delivery_id)
    except (ValueError, UnicodeError):
        raise BadUserInput("`after` is not a delivery cursor.") from None


async def _webhook(webhook_ref: str) -> Webhook:
    try:
        webhook = await Webhook.filter(id=parse_uuid(webhook_ref, "id")).first()
    except BadUserInput:
        webhook = None
    if webhook is None:
        raise not_found("webhook", ("id",))
    return webhook
