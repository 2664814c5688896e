"""The store's enumerations; their values are the GraphQL enum values."""

from __future__ import annotations

import enum

from ticketdesk.models.analysis import Category, Priority

__all__ = [
    "Category",
    "EscalationStatus",
    "EventType",
    "Priority",
    "Role",
    "SenderType",
    "Source",
    "Status",
]


class Status(str, enum.Enum):
    """Where a ticket is in its workflow."""

    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    REOPENED = "REOPENED"


class Source(str, enum.Enum):
    """Where a ticket came from; follows the caller's role."""

    AI_TRANSFER = "AI_TRANSFER"
    MOBILE = "MOBILE"
    ADMIN = "ADMIN"
    WEBHOOK = "WEBHOOK"


class SenderType(str, enum.Enum):
    """Who wrote a message."""

    CUSTOMER = "CUSTOMER"
    AGENT = "AGENT"
    SYSTEM = "SYSTEM"
    AI = "AI"


class Role(str, enum.Enum):
    """A token's `role` claim, upper-cased."""

    CUSTOMER = "CUSTOMER"
    AGENT = "AGENT"
    ADMIN = "ADMIN"
    SERVICE = "SERVICE"


class EscalationStatus(str, enum.Enum):
    """Where an escalation request stands."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    DENIED = "DENIED"


class EventType(str, enum.Enum):
    """What a ticket event records."""

    CREATED = "CREATED"
    UPDATED = "UPDATED"
    STATUS_CHANGED = "STATUS_CHANGED"
    ASSIGNED = "ASSIGNED"
    MESSAGE_ADDED = "MESSAGE_ADDED"
    NOTE_ADDED = "NOTE_ADDED"
    ESCALATION_REQUESTED = "ESCALATION_REQUESTED"
    ESCALATION_DECIDED = "ESCALATION_DECIDED"
    FEEDBACK_SUBMITTED = "FEEDBACK_SUBMITTED"
    ATTACHMENT_ADDED = "ATTACHMENT_ADDED"
