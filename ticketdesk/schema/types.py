"""The GraphQL object types; each wraps a store row and loads its relations through the request's loaders."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Sequence
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from ticketdesk import models
from ticketdesk.context import Info, Loaders
from ticketdesk.models.enums import (
    AttachmentKind,
    Category,
    DeliveryStatus,
    EscalationStatus,
    EventType,
    Priority,
    Role,
    SenderType,
    Source,
    Status,
)
from ticketdesk.parsing import event_cursor
from ticketdesk.resolvers.timeline import EventPage
from ticketdesk.resolvers.timeline import timeline as ticket_timeline
from ticketdesk.schema.loading import Loading, loaded


def _id(value: object) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.type(description="A customer of the bank who files tickets.")
class Customer:
    id: strawberry.ID = strawberry.field(description="The customer's UUID (the token's `sub`).")
    name: str | None = strawberry.field(description="Display name, from the token's `name` claim.")
    email: str | None = strawberry.field(description="Email address, from the token's `email` claim.")

    @classmethod
    def of(cls, row: models.Principal) -> Customer:
        """The GraphQL view of a stored principal."""
        return cls(id=_id(row.id), name=row.name, email=row.email)


def _agent_email(root: Agent, info: Info) -> str | None:
    # Staff reach each other by e-mail; customers talk to staff through their tickets only.
    return root.row.email if info.context.scope.internal and root.row.role is not Role.CUSTOMER else None


@strawberry.type(description="A support agent or admin.")
class Agent:
    row: strawberry.Private[models.Principal]
    id: strawberry.ID = strawberry.field(description="The agent's UUID (the token's `sub`).")
    name: str | None = strawberry.field(description="Display name, from the token's `name` claim.")
    email: str | None = strawberry.field(
        resolver=_agent_email, description="Email address, for staff only (null for customers and services)."
    )

    @classmethod
    def of(cls, row: models.Principal) -> Agent:
        """The GraphQL view of a stored principal."""
        return cls(row=row, id=_id(row.id), name=row.name)


@strawberry.type(description="Who is calling.")
class Viewer:
    id: strawberry.ID = strawberry.field(description="The caller's UUID (the token's `sub`).")
    role: Role = strawberry.field(description="The caller's role.")
    name: str | None = strawberry.field(description="Display name from the token, if any.")
    email: str | None = strawberry.field(description="Email from the token, if any.")


@strawberry.type(description="A file of a ticket: a link the client gave, or a file uploaded with uploadAttachment.")
class Attachment:
    row: strawberry.Private[models.Attachment]
    id: strawberry.ID = strawberry.field(description="The attachment's UUID (what attachmentIds names).")
    ticket_id: strawberry.ID | None = strawberry.field(
        description="The ticket it belongs to; null while an upload is pending (not attached yet)."
    )
    message_id: strawberry.ID | None = strawberry.field(description="The message it came with, if any.")
    kind: AttachmentKind = strawberry.field(description="LINK or FILE.")
    filename: str | None = strawberry.field(
        description="The file's name: a FILE's made safe (no folders or control characters, an extension that "
        "matches its content); a LINK's taken from its URL."
    )
    content_type: str | None = strawberry.field(
        description="A FILE's media type, decided from its content (never the client's claim)."
    )
    size: int | None = strawberry.field(description="A FILE's size in bytes.")
    sha256: str | None = strawberry.field(description="A FILE's SHA-256, hex: clients may check a download with it.")
    internal: bool = strawberry.field(description="Staff only: customers never see internal files.")
    created_at: dt.datetime = strawberry.field(description="When it was uploaded or attached.")

    @classmethod
    def of(cls, row: models.Attachment) -> Attachment:
        """The GraphQL view of a stored attachment."""
        return cls(
            row=row,
            id=_id(row.id),
            ticket_id=_id(row.ticket_id) if row.ticket_id is not None else None,
            message_id=_id(row.message_id) if row.message_id is not None else None,
            kind=row.kind,
            filename=row.filename,
            content_type=row.content_type,
            size=row.size,
            sha256=row.sha256,
            internal=row.internal,
            created_at=row.created_at,
        )

    @strawberry.field(
        description="A LINK's https URL. A FILE's download link for this viewer: signed, valid for a few minutes "
        "(TICKETDESK_ATTACHMENT_LINK_SECONDS); query the attachment again for a fresh one."
    )
    def url(self, info: Info) -> str:
        if self.row.kind is AttachmentKind.FILE:
            return info.context.download_url(self.row.id)
        return self.row.url or ""


@strawberry.type(description="One message of a ticket's conversation, or an internal note.")
class Message:
    row: strawberry.Private[models.Message]
    id: strawberry.ID = strawberry.field(description="The message's UUID.")
    ticket_id: strawberry.ID = strawberry.field(description="The ticket it belongs to.")
    sender_id: strawberry.ID | None = strawberry.field(description="Who wrote it; null for AI and system lines.")
    sender_type: SenderType = strawberry.field(description="What kind of sender wrote it.")
    body: str = strawberry.field(description="The text.")
    internal: bool = strawberry.field(description="True for agents' internal notes (never shown to customers).")
    created_at: dt.datetime = strawberry.field(description="When it was written.")

    @classmethod
    def of(cls, row: models.Message) -> Message:
        """The GraphQL view of a stored message."""
        return cls(
            row=row,
            id=_id(row.id),
            ticket_id=_id(row.ticket_id),
            sender_id=_id(row.sender_id) if row.sender_id is not None else None,
            sender_type=row.sender_type,
            body=row.body,
            internal=row.internal,
            created_at=row.created_at,
        )

    @strawberry.field(description="Files sent with this message (customers never see internal ones).")
    async def attachments(self, info: Info) -> list[Attachment]:
        rows = await info.context.loaders.attachments_by_message.load(self.row.id)
        return _visible_attachments(info, rows)


def _escalation_reason(root: EscalationRequest, info: Info) -> str:
    return root.row.reason if info.context.scope.sees_escalation_reason(root.row.requested_by) else ""


def _decision_note(root: EscalationRequest, info: Info) -> str | None:
    return root.row.decision_note if info.context.scope.internal else None


@strawberry.type(description="A request to raise a ticket's priority, and its decision.")
class EscalationRequest:
    row: strawberry.Private[models.EscalationRequest]
    id: strawberry.ID = strawberry.field(description="The request's UUID.")
    ticket_id: strawberry.ID = strawberry.field(description="The ticket to escalate.")
    reason: str = strawberry.field(
        resolver=_escalation_reason,
        description="Why the requester wants it escalated; empty for a customer when staff asked.",
    )
    target_priority: Priority = strawberry.field(description="The priority asked for.")
    status: EscalationStatus = strawberry.field(description="Pending, approved or denied.")
    requested_by: strawberry.ID = strawberry.field(description="Who asked.")
    decision_note: str | None = strawberry.field(
        resolver=_decision_note, description="The admin's note on the decision (staff only; null for customers)."
    )
    created_at: dt.datetime = strawberry.field(description="When it was requested.")
    decided_at: dt.datetime | None = strawberry.field(description="When it was decided.")

    @classmethod
    def of(cls, row: models.EscalationRequest) -> EscalationRequest:
        """The GraphQL view of a stored escalation request."""
        return cls(
            row=row,
            id=_id(row.id),
            ticket_id=_id(row.ticket_id),
            target_priority=row.target_priority,
            status=row.status,
            requested_by=_id(row.requested_by),
            created_at=row.created_at,
            decided_at=row.decided_at,
        )

    @strawberry.field(description="The admin who decided, once decided.")
    async def decided_by(self, info: Info) -> Agent | None:
        if self.row.decided_by_id is None:
            return None
        row = await info.context.loaders.principal_by_id.load(self.row.decided_by_id)
        return Agent.of(row) if row is not None else None


@strawberry.type(description="The customer's rating of how their ticket was handled.")
class Feedback:
    rating: int = strawberry.field(description="1 (poor) to 5 (excellent).")
    comment: str | None = strawberry.field(description="What the customer wrote, if anything.")
    created_at: dt.datetime = strawberry.field(description="When it was given.")

    @classmethod
    def of(cls, row: models.Feedback) -> Feedback:
        """The GraphQL view of stored feedback."""
        return cls(rating=row.rating, comment=row.comment, created_at=row.created_at)


@strawberry.type(description="What the AI concierge handed over with the ticket.")
class AITransfer:
    conversation_id: str = strawberry.field(description="The concierge's conversation id (idempotency key).")
    summary_of_issue: str = strawberry.field(description="The concierge's summary of the issue.")
    suggested_resolution: str | None = strawberry.field(description="What the concierge suggests doing.")
    customer_context: JSON | None = strawberry.field(
        description="Account facts the concierge passed along (accountStatus, recentTransactions, accountAge)."
    )


def _customer(row: models.Principal | None) -> Customer:
    assert row is not None  # tickets.customer_id is a foreign key
    return Customer.of(row)


def _agent(row: models.Principal | None) -> Agent | None:
    return Agent.of(row) if row is not None else None


def _conversation_order(row: models.Message) -> tuple[dt.datetime, int]:
    return (row.created_at, row.position)


@strawberry.type(description="A support ticket.")
class Ticket:
    row: strawberry.Private[models.Ticket]
    id: strawberry.ID = strawberry.field(description="The ticket's UUID.")
    reference: str = strawberry.field(description='"TCK-" and the number padded to 6 digits, e.g. TCK-000042.')
    number: int = strawberry.field(description="Gap-free sequence number: 1, 2, 3, ...")
    customer_id: strawberry.ID = strawberry.field(description="The customer the ticket belongs to.")
    subject: str = strawberry.field(description="One-line summary.")
    description: str = strawberry.field(description="The issue in the customer's (or concierge's) words.")
    status: Status = strawberry.field(description="Where the ticket is in its workflow.")
    priority: Priority = strawberry.field(description="How urgent it is.")
    category: Category = strawberry.field(description="What it is about.")
    source: Source = strawberry.field(description="Where it came from.")
    created_at: dt.datetime = strawberry.field(description="When it was created.")
    updated_at: dt.datetime = strawberry.field(description="When it last changed (including new messages).")
    resolved_at: dt.datetime | None = strawberry.field(
        description="When it entered RESOLVED; cleared when it is reopened."
    )

    @classmethod
    def of(cls, row: models.Ticket) -> Ticket:
        """The GraphQL view of a stored ticket."""
        return cls(
            row=row,
            id=_id(row.id),
            reference=row.reference,
            number=row.number,
            customer_id=_id(row.customer_id),
            subject=row.subject,
            description=row.description,
            status=row.status,
            priority=row.priority,
            category=row.category,
            source=row.source,
            created_at=row.created_at,
            updated_at=row.updated_at,
            resolved_at=row.resolved_at,
        )

    @staticmethod
    def preloads(loaders: Loaders, rows: Sequence[models.Ticket], fields: set[str]) -> list[Awaitable[Any]]:
        """Loads for the relations `fields` name, for all of `rows` at once (see ticketdesk.schema.loading)."""
        loads: list[Awaitable[Any]] = []
        people: set[uuid.UUID] = set()
        if "customer" in fields:
            people.update(row.customer_id for row in rows)
        if "assignee" in fields:
            people.update(row.assignee_id for row in rows if row.assignee_id is not None)
        if people:
            loads.append(loaders.principal_by_id.load_many(people))
        if "messages" in fields:
            loads.append(loaders.messages_by_ticket.load_many([row.id for row in rows]))
        return loads

    @strawberry.field(graphql_type=Customer, description="The customer the ticket belongs to.")
    def customer(self, info: Info) -> Loading[Customer]:
        return loaded(info.context.loaders.principal_by_id.load(self.row.customer_id), _customer)

    @strawberry.field(graphql_type=Agent | None, description="The agent working on it, if assigned.")
    def assignee(self, info: Info) -> Loading[Agent | None]:
        if self.row.assignee_id is None:
            return None
        return loaded(info.context.loaders.principal_by_id.load(self.row.assignee_id), _agent)

    @strawberry.field(
        graphql_type=list[Message], description="The conversation, oldest first; customers never see internal notes."
    )
    def messages(self, info: Info) -> Loading[list[Message]]:
        scope = info.context.scope

        def visible(rows: list[models.Message]) -> list[Message]:
            shown = sorted((row for row in rows if scope.sees_message(row.internal)), key=_conversation_order)
            return [Message.of(row) for row in shown]

        return loaded(info.context.loaders.messages_by_ticket.load(self.row.id), visible)

    @strawberry.field(
        description="Every file of the ticket or its messages, oldest first; customers never see internal ones."
    )
    async def attachments(self, info: Info) -> list[Attachment]:
        rows = await info.context.loaders.attachments_by_ticket.load(self.row.id)
        return _visible_attachments(info, sorted(rows, key=lambda row: row.created_at))

    @strawberry.field(description="Escalation requests, oldest first.")
    async def escalations(self, info: Info) -> list[EscalationRequest]:
        rows = await info.context.loaders.escalations_by_ticket.load(self.row.id)
        return [EscalationRequest.of(row) for row in sorted(rows, key=lambda row: row.created_at)]

    @strawberry.field(description="The customer's feedback, once given.")
    async def feedback(self, info: Info) -> Feedback | None:
        row = await info.context.loaders.feedback_by_ticket.load(self.row.id)
        return Feedback.of(row) if row is not None else None

    @strawberry.field(description="What the AI concierge handed over, for AI_TRANSFER tickets.")
    async def ai_transfer(self, info: Info) -> AITransfer | None:
        row = await info.context.loaders.transfer_by_ticket.load(self.row.id)
        if row is None:
            return None
        return AITransfer(
            conversation_id=row.conversation_id,
            summary_of_issue=row.summary_of_issue,
            suggested_resolution=row.suggested_resolution,
            customer_context=JSON(row.customer_context) if row.customer_context is not None else None,
        )

    @strawberry.field(description="The ticket's event log, oldest first, as far as the viewer may see it.")
    async def timeline(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, 1-100 (default 50).")] = None,
        after: Annotated[str | None, strawberry.argument(description="Cursor of the last event seen.")] = None,
    ) -> TicketEventConnection:
        page = await ticket_timeline(
            info.context.caller, self.row.id, first, after, info.context.loaders.timelines.load
        )
        return TicketEventConnection.of(page)


@strawberry.type(description="One recorded change of a ticket.")
class TicketEvent:
    row: strawberry.Private[models.TicketEvent]
    id: strawberry.ID = strawberry.field(description="The event's id.")
    cursor: str = strawberry.field(description="Opaque, totally ordered; valid as `since` and `after`.")
    type: EventType = strawberry.field(description="What changed.")
    ticket_id: strawberry.ID = strawberry.field(description="The ticket that changed.")
    actor_id: strawberry.ID | None = strawberry.field(description="Who made the change.")
    actor_role: Role | None = strawberry.field(description="The role they acted in.")
    occurred_at: dt.datetime = strawberry.field(description="When the change was committed.")
    from_status: Status | None = strawberry.field(description="STATUS_CHANGED: the status before.")
    to_status: Status | None = strawberry.field(description="STATUS_CHANGED: the status after.")

    @classmethod
    def of(cls, row: models.TicketEvent) -> TicketEvent:
        """The GraphQL view of a stored event."""
        return cls(
            row=row,
            id=_id(row.seq),
            cursor=event_cursor(row.seq),
            type=row.type,
            ticket_id=_id(row.ticket_id),
            actor_id=_id(row.actor_id) if row.actor_id is not None else None,
            actor_role=row.actor_role,
            occurred_at=row.occurred_at,
            from_status=row.from_status,
            to_status=row.to_status,
        )

    @strawberry.field(
        graphql_type=Ticket, description="The ticket's current state, seen with the viewer's permissions."
    )
    def ticket(self, info: Info) -> Loading[Ticket]:
        return loaded(info.context.loaders.ticket_by_id.load(self.row.ticket_id), _ticket)

    @strawberry.field(description="MESSAGE_ADDED / NOTE_ADDED: the message.")
    async def message(self, info: Info) -> Message | None:
        if self.row.message_id is None:
            return None
        row = await info.context.loaders.message_by_id.load(self.row.message_id)
        if row is None or not info.context.scope.sees_message(row.internal):
            return None
        return Message.of(row)

    @strawberry.field(description="ESCALATION_REQUESTED / ESCALATION_DECIDED: the request.")
    async def escalation(self, info: Info) -> EscalationRequest | None:
        if self.row.escalation_id is None:
            return None
        row = await info.context.loaders.escalation_by_id.load(self.row.escalation_id)
        return EscalationRequest.of(row) if row is not None else None

    @strawberry.field(description="ASSIGNED: the new assignee (null when unassigned).")
    async def assignee(self, info: Info) -> Agent | None:
        if self.row.assignee_id is None:
            return None
        row = await info.context.loaders.principal_by_id.load(self.row.assignee_id)
        return Agent.of(row) if row is not None else None

    @strawberry.field(description="ATTACHMENT_ADDED: the file.")
    async def attachment(self, info: Info) -> Attachment | None:
        if self.row.attachment_id is None:
            return None
        row = await info.context.loaders.attachment_by_id.load(self.row.attachment_id)
        if row is None or not info.context.scope.sees_attachment(row.internal):
            return None
        return Attachment.of(row)

    @strawberry.field(description="UPDATED: each changed field with its value before and after.")
    def changes(self) -> JSON | None:
        return JSON(self.row.changes) if self.row.changes is not None else None


def _visible_attachments(info: Info, rows: Sequence[models.Attachment]) -> list[Attachment]:
    """The attachments of a ticket in view that the viewer may see (ticketdesk.policy)."""
    scope = info.context.scope
    return [Attachment.of(row) for row in rows if scope.sees_attachment(row.internal)]


def _ticket(row: models.Ticket | None) -> Ticket:
    assert row is not None  # events cascade with their ticket
    return Ticket.of(row)


@strawberry.type(description="Relay-style paging information.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow this page.")
    has_previous_page: bool = strawberry.field(description="Whether items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first item on this page.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last item on this page.")

    @classmethod
    def of(cls, cursors: list[str], *, has_next: bool, has_previous: bool) -> PageInfo:
        """The paging information of a page whose items have `cursors`, in order."""
        return cls(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


@strawberry.type(description="An event and its cursor.")
class TicketEventEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this event.")
    node: TicketEvent = strawberry.field(description="The event.")


@strawberry.type(description="A page of events: a ticket's timeline, or the event feed.")
class TicketEventConnection:
    edges: list[TicketEventEdge] = strawberry.field(description="The events with their cursors.")
    page_info: PageInfo = strawberry.field(description="Where this page stands.")

    @classmethod
    def of(cls, page: EventPage) -> TicketEventConnection:
        """The GraphQL view of a page of events."""
        edges = [TicketEventEdge(cursor=event_cursor(row.seq), node=TicketEvent.of(row)) for row in page.events]
        cursors = [edge.cursor for edge in edges]
        return cls(edges=edges, page_info=PageInfo.of(cursors, has_next=page.has_next, has_previous=page.has_previous))

    @strawberry.field(description="The events of this page.")
    def nodes(self) -> list[TicketEvent]:
        return [edge.node for edge in self.edges]


@strawberry.type(description="An outbound webhook: an https endpoint that receives ticket events, signed (admins).")
class Webhook:
    id: strawberry.ID = strawberry.field(description="The webhook's UUID.")
    url: str = strawberry.field(description="Where events are POSTed.")
    events: list[EventType] = strawberry.field(description="The event types it receives (every type when empty).")
    include_internal: bool = strawberry.field(description="Whether internal notes and files are in what it receives.")
    enabled: bool = strawberry.field(description="False once disabled (by an admin, or after 24 h of failure).")
    description: str | None = strawberry.field(description="An admin's note of what it is for.")
    created_at: dt.datetime = strawberry.field(description="When it was created.")
    last_delivery_at: dt.datetime | None = strawberry.field(description="When an event was last delivered.")
    failing_since: dt.datetime | None = strawberry.field(description="Since when its current event keeps failing.")

    @classmethod
    def of(cls, row: models.Webhook) -> Webhook:
        """The GraphQL view of a stored webhook (never its secret)."""
        return cls(
            id=_id(row.id),
            url=row.url,
            events=[EventType(name) for name in row.events or []],
            include_internal=row.include_internal,
            enabled=row.enabled,
            description=row.description,
            created_at=row.created_at,
            last_delivery_at=row.last_delivery_at,
            failing_since=row.failing_since,
        )


@strawberry.type(description="One attempt to deliver one event to a webhook.")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="The delivery's UUID (what redeliverWebhook takes).")
    event_cursor: str = strawberry.field(description="The event's cursor: the webhook-id header the receiver got.")
    event_type: EventType = strawberry.field(description="The event's type.")
    attempt: int = strawberry.field(description="Which attempt at this event it was (1, 2, ...).")
    status: DeliveryStatus = strawberry.field(description="How it went.")
    response_code: int | None = strawberry.field(description="The receiver's HTTP status, if it answered.")
    error: str | None = strawberry.field(description="What went wrong, if it did.")
    created_at: dt.datetime = strawberry.field(description="When it was attempted.")
    next_attempt_at: dt.datetime | None = strawberry.field(description="When the event will be tried again.")

    @classmethod
    def of(cls, row: models.WebhookDelivery) -> WebhookDelivery:
        """The GraphQL view of a recorded delivery."""
        return cls(
            id=_id(row.id),
            event_cursor=event_cursor(row.event_seq),
            event_type=row.event_type,
            attempt=row.attempt,
            status=row.status,
            response_code=row.response_code,
            error=row.error,
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at,
        )


@strawberry.type(description="A delivery and its cursor.")
class WebhookDeliveryEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this delivery.")
    node: WebhookDelivery = strawberry.field(description="The delivery.")


@strawberry.type(description="A page of a webhook's deliveries, newest first.")
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge] = strawberry.field(description="The deliveries with their cursors.")
    page_info: PageInfo = strawberry.field(description="Where this page stands.")

    @strawberry.field(description="The deliveries of this page.")
    def nodes(self) -> list[WebhookDelivery]:
        return [edge.node for edge in self.edges]
