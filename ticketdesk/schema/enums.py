"""The model enums, registered as GraphQL enums under the contract's names."""

from __future__ import annotations

import enum

import strawberry

from ticketdesk.errors import UserErrorCode as _UserErrorCode
from ticketdesk.models import enums

TicketStatus = strawberry.enum(enums.Status, name="TicketStatus", description="Where a ticket is in its workflow.")
TicketPriority = strawberry.enum(
    enums.Priority, name="TicketPriority", description="How urgent a ticket is, from LOW to CRITICAL."
)
SupportCategory = strawberry.enum(enums.Category, name="SupportCategory", description="What a ticket is about.")
TicketSource = strawberry.enum(enums.Source, name="TicketSource", description="Where a ticket came from.")
SenderType = strawberry.enum(enums.SenderType, name="SenderType", description="Who wrote a message.")
Role = strawberry.enum(enums.Role, name="Role", description="The caller's role, from the token's `role` claim.")
EscalationStatus = strawberry.enum(
    enums.EscalationStatus, name="EscalationStatus", description="Where an escalation request stands."
)
TicketEventType = strawberry.enum(enums.EventType, name="TicketEventType", description="What a ticket event records.")
UserErrorCode = strawberry.enum(
    _UserErrorCode, name="UserErrorCode", description="Why a permitted operation was refused."
)
AttachmentKind = strawberry.enum(
    enums.AttachmentKind,
    name="AttachmentKind",
    description="LINK: a URL the client gave. FILE: a file uploaded with uploadAttachment, downloaded through `url`.",
)
DeliveryStatus = strawberry.enum(
    enums.DeliveryStatus,
    name="DeliveryStatus",
    description="One attempt to deliver an event: SUCCEEDED (a 2xx answer), FAILED (retried later), PENDING.",
)
TicketOrderField = strawberry.enum(
    enums.TicketOrderField, name="TicketOrderField", description="What to sort tickets by."
)


@strawberry.enum(description="Sort direction.")
class OrderDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"
