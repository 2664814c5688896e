"""Tortoise models and store logic; `MODELS` is what the store registers."""

from __future__ import annotations

from ticketdesk.models.attachments import Attachment, ContentChunk, FileContent
from ticketdesk.models.escalations import EscalationRequest
from ticketdesk.models.events import TicketEvent
from ticketdesk.models.feedback import Feedback
from ticketdesk.models.inbound import InboundSource
from ticketdesk.models.messages import Message
from ticketdesk.models.people import Principal
from ticketdesk.models.search import TicketSearch
from ticketdesk.models.tickets import Counter, Ticket
from ticketdesk.models.transfers import AITransfer
from ticketdesk.models.webhooks import Webhook, WebhookDelivery

MODEL_MODULES = [
    "ticketdesk.models.people",
    "ticketdesk.models.tickets",
    "ticketdesk.models.messages",
    "ticketdesk.models.attachments",
    "ticketdesk.models.escalations",
    "ticketdesk.models.feedback",
    "ticketdesk.models.transfers",
    "ticketdesk.models.events",
    "ticketdesk.models.search",
    "ticketdesk.models.inbound",
    "ticketdesk.models.webhooks",
]

__all__ = [
    "MODEL_MODULES",
    "AITransfer",
    "Attachment",
    "ContentChunk",
    "Counter",
    "EscalationRequest",
    "Feedback",
    "FileContent",
    "InboundSource",
    "Message",
    "Principal",
    "Ticket",
    "TicketEvent",
    "TicketSearch",
    "Webhook",
    "WebhookDelivery",
]
