"""Input types of the queries and mutations, each turned into its resolver's form (ids parsed) in one method."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.scalars import JSON

from ticketdesk.models.enums import Category, EventType, Priority, SenderType, Source, Status, TicketOrderField
from ticketdesk.parsing import parse_text, parse_uuid, to_utc
from ticketdesk.resolvers.listing import TicketQuery
from ticketdesk.resolvers.tickets import NewTicket, TicketEdit
from ticketdesk.resolvers.transfers import ConversationLine, Handoff
from ticketdesk.resolvers.webhooks import WebhookEdit
from ticketdesk.schema.enums import OrderDirection
from ticketdesk.settings import Settings


@strawberry.input(description="Which tickets to list or count: AND across fields, OR within a list.")
class TicketFilter:
    status: list[Status] | None = strawberry.field(default=None, description="Any of these statuses.")
    priority: list[Priority] | None = strawberry.field(default=None, description="Any of these priorities.")
    category: list[Category] | None = strawberry.field(default=None, description="Any of these categories.")
    source: list[Source] | None = strawberry.field(default=None, description="Any of these sources.")
    assignee_id: strawberry.ID | None = strawberry.field(default=None, description="Assigned to this agent.")
    unassigned: bool | None = strawberry.field(
        default=None, description="true: only unassigned tickets; false: only assigned ones."
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Of this customer (customers always see only their own)."
    )
    search: str | None = strawberry.field(
        default=None,
        description="Every whitespace-separated term must occur, case-insensitively, in the reference, "
        "subject, description or a message the viewer may see.",
    )
    created_after: dt.datetime | None = strawberry.field(default=None, description="Created at or after this.")
    created_before: dt.datetime | None = strawberry.field(default=None, description="Created before this.")
    updated_since: dt.datetime | None = strawberry.field(
        default=None, description="Changed at or after this (mobile delta refresh)."
    )

    def to_query(self, settings: Settings) -> TicketQuery:
        """The resolvers' form of this filter: ids parsed, datetimes in UTC, search checked (BAD_USER_INPUT)."""
        return TicketQuery(
            status=self.status,
            priority=self.priority,
            category=self.category,
            source=self.source,
            assignee_id=parse_uuid(self.assignee_id, "filter.assigneeId") if self.assignee_id else None,
            unassigned=self.unassigned,
            customer_id=parse_uuid(self.customer_id, "filter.customerId") if self.customer_id else None,
            search=parse_text(self.search, "filter.search", limit=settings.max_search_chars) if self.search else None,
            created_after=_utc(self.created_after, "filter.createdAfter"),
            created_before=_utc(self.created_before, "filter.createdBefore"),
            updated_since=_utc(self.updated_since, "filter.updatedSince"),
        )


def _utc(value: dt.datetime | None, argument: str) -> dt.datetime | None:
    return to_utc(value, argument) if value is not None else None


@strawberry.input(description="How to sort tickets; ties are broken by number.")
class TicketOrder:
    field: TicketOrderField = strawberry.field(default=TicketOrderField.CREATED_AT, description="What to sort by.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.DESC, description="Which way.")


@strawberry.input(description="A new ticket from the app's form, the admin portal or an integration.")
class CreateTicketInput:
    subject: str = strawberry.field(description="1-255 characters after trimming.")
    description: str = strawberry.field(description="1-10,000 characters.")
    category: Category = strawberry.field(description="What it is about.")
    priority: Priority | None = strawberry.field(
        default=None, description="Defaults from the category (security: CRITICAL, banking/access: HIGH, ...)."
    )
    attachment_urls: list[str] | None = strawberry.field(default=None, description="https URLs of files.")
    attachment_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Your pending uploads (uploadAttachment without ticketId) to attach."
    )
    error_details: JSON | None = strawberry.field(default=None, description="What the app knows of an error.")
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Agents, admins and services: the customer the ticket is for."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="A retry with the same key for the same customer returns the same ticket."
    )

    def to_command(self) -> NewTicket:
        """The resolver's form of this input; a malformed customerId is BAD_USER_INPUT."""
        return NewTicket(
            subject=self.subject,
            description=self.description,
            category=self.category,
            priority=self.priority,
            attachment_urls=self.attachment_urls,
            attachment_ids=list(self.attachment_ids) if self.attachment_ids is not None else None,
            error_details=self.error_details,
            customer_id=parse_uuid(self.customer_id, "input.customerId") if self.customer_id else None,
            idempotency_key=self.idempotency_key,
        )


@strawberry.input(description="Account facts the concierge passes along.")
class CustomerContextInput:
    account_status: str | None = strawberry.field(default=None, description="e.g. active, frozen.")
    recent_transactions: int | None = strawberry.field(default=None, description="Recent transaction count.")
    account_age: str | None = strawberry.field(default=None, description="e.g. 2 years.")

    def to_json(self) -> dict[str, Any]:
        """The stored form: the contract's camelCase keys."""
        return {
            "accountStatus": self.account_status,
            "recentTransactions": self.recent_transactions,
            "accountAge": self.account_age,
        }


@strawberry.input(description="One line of the AI conversation.")
class ConversationMessageInput:
    role: SenderType = strawberry.field(description="CUSTOMER for the customer's words, AI for the concierge's.")
    content: str = strawberry.field(description="The text, 1-10,000 characters.")
    timestamp: dt.datetime | None = strawberry.field(default=None, description="When it was said.")

    def to_line(self) -> ConversationLine:
        """The resolver's form of this line."""
        return ConversationLine(self.role, self.content, self.timestamp)


@strawberry.input(description="The AI concierge's hand-off of a conversation to a human.")
class AITransferInput:
    conversation_id: str = strawberry.field(
        description="The concierge's conversation id; a retry for the same customer returns the same ticket."
    )
    summary_of_issue: str = strawberry.field(description="The concierge's summary; becomes the description.")
    category: Category | None = strawberry.field(default=None, description="Derived from the conversation when absent.")
    priority: Priority | None = strawberry.field(default=None, description="Derived from the conversation when absent.")
    conversation_history: list[ConversationMessageInput] = strawberry.field(
        default_factory=list, description="The conversation, oldest first."
    )
    suggested_resolution: str | None = strawberry.field(default=None, description="What the concierge suggests.")
    customer_context: CustomerContextInput | None = strawberry.field(default=None, description="Account facts.")
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Service role only: the customer the conversation was with."
    )

    def to_command(self) -> Handoff:
        """The resolver's form of this input; a malformed customerId is BAD_USER_INPUT."""
        return Handoff(
            conversation_id=self.conversation_id,
            summary_of_issue=self.summary_of_issue,
            category=self.category,
            priority=self.priority,
            history=[line.to_line() for line in self.conversation_history],
            suggested_resolution=self.suggested_resolution,
            customer_context=self.customer_context.to_json() if self.customer_context is not None else None,
            customer_id=parse_uuid(self.customer_id, "input.customerId") if self.customer_id else None,
        )


@strawberry.input(description="Fields of a ticket to change; omitted ones stay as they are.")
class UpdateTicketInput:
    subject: str | None = strawberry.field(default=None, description="1-255 characters after trimming.")
    description: str | None = strawberry.field(default=None, description="1-10,000 characters.")
    category: Category | None = strawberry.field(default=None, description="What it is about.")
    priority: Priority | None = strawberry.field(default=None, description="How urgent it is.")

    def to_command(self) -> TicketEdit:
        """The resolver's form of this input."""
        return TicketEdit(
            subject=self.subject, description=self.description, category=self.category, priority=self.priority
        )


@strawberry.input(description="Which events the feed returns: AND across fields, OR within types.")
class EventFilter:
    types: list[EventType] | None = strawberry.field(default=None, description="Any of these event types.")
    ticket_id: strawberry.ID | None = strawberry.field(
        default=None, description='Only this ticket\'s events (UUID or reference "TCK-000042").'
    )


@strawberry.input(description="A new outbound webhook.")
class CreateWebhookInput:
    url: str = strawberry.field(description="https:// endpoint (plain http only to loopback, in development).")
    events: list[EventType] | None = strawberry.field(default=None, description="Types to receive; null or empty: all.")
    include_internal: bool | None = strawberry.field(
        default=None, description="Receive internal notes and files too (default false)."
    )
    description: str | None = strawberry.field(default=None, description="What it is for (up to 500 characters).")

    def to_command(self) -> WebhookEdit:
        """The resolver's form of this input."""
        return WebhookEdit(
            url=self.url, events=self.events, include_internal=self.include_internal, description=self.description
        )


@strawberry.input(description="What to change of a webhook; null leaves a field as it is.")
class UpdateWebhookInput:
    url: str | None = strawberry.field(default=None, description="A new endpoint.")
    events: list[EventType] | None = strawberry.field(default=None, description="Types to receive; empty: all.")
    include_internal: bool | None = strawberry.field(default=None, description="Receive internal content or not.")
    description: str | None = strawberry.field(default=None, description="What it is for.")
    enabled: bool | None = strawberry.field(
        default=None, description="false pauses it; true resumes it from the event it stopped at."
    )

    def to_command(self) -> WebhookEdit:
        """The resolver's form of this input."""
        return WebhookEdit(
            url=self.url,
            events=self.events,
            include_internal=self.include_internal,
            description=self.description,
            enabled=self.enabled,
        )
