"""The domain's vocabulary: every enumeration the store, the resolvers and the GraphQL schema share.

Their values are the GraphQL enum values, and the store keeps them as those strings.
"""

from __future__ import annotations

import enum

__all__ = [
    "DEFAULT_PRIORITY",
    "Category",
    "EscalationStatus",
    "EventType",
    "Priority",
    "Role",
    "SenderType",
    "Source",
    "Status",
    "TicketOrderField",
]


class Category(str, enum.Enum):
    """What a ticket is about."""

    APP_ERROR = "APP_ERROR"
    BANKING_ISSUE = "BANKING_ISSUE"
    ACCOUNT_ACCESS = "ACCOUNT_ACCESS"
    TRANSACTION_ERROR = "TRANSACTION_ERROR"
    FEATURE_QUESTION = "FEATURE_QUESTION"
    SECURITY_CONCERN = "SECURITY_CONCERN"
    OTHER = "OTHER"


class Priority(str, enum.Enum):
    """How fast a ticket needs a human; compare with `rank`, never with the string values."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        """Ordinal of the priority: LOW=0 .. CRITICAL=3."""
        return _PRIORITY_ORDER.index(self)


_PRIORITY_ORDER: tuple[Priority, ...] = tuple(Priority)

# The priority a ticket gets from its category when nobody names one.
DEFAULT_PRIORITY: dict[Category, Priority] = {
    Category.SECURITY_CONCERN: Priority.CRITICAL,
    Category.BANKING_ISSUE: Priority.HIGH,
    Category.ACCOUNT_ACCESS: Priority.HIGH,
    Category.TRANSACTION_ERROR: Priority.HIGH,
    Category.APP_ERROR: Priority.MEDIUM,
    Category.FEATURE_QUESTION: Priority.LOW,
    Category.OTHER: Priority.LOW,
}


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


class AttachmentKind(str, enum.Enum):
    """How an attachment's content is held: a link the client gave, or a file uploaded to ticketdesk."""

    LINK = "LINK"
    FILE = "FILE"


class DeliveryStatus(str, enum.Enum):
    """Where one attempt to deliver an event to a webhook stands."""

    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class TicketOrderField(str, enum.Enum):
    """What a ticket list is sorted by; ties are broken by number."""

    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    PRIORITY = "PRIORITY"
    NUMBER = "NUMBER"
