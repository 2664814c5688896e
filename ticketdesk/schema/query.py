"""The Query root."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ticketdesk.context import Info
from ticketdesk.models.enums import Category, DeliveryStatus, Priority, Status
from ticketdesk.resolvers import feed, listing, people, tickets, transfers, webhooks
from ticketdesk.schema.enums import OrderDirection
from ticketdesk.schema.gate import gated
from ticketdesk.schema.inputs import ConversationMessageInput, EventFilter, TicketFilter, TicketOrder
from ticketdesk.schema.loading import preload, selected
from ticketdesk.schema.types import (
    Agent,
    PageInfo,
    Ticket,
    TicketEventConnection,
    Viewer,
    Webhook,
    WebhookDelivery,
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
)


@strawberry.type(description="A ticket and its cursor.")
class TicketEdge:
    cursor: str = strawberry.field(description="Pass as `after` (or `before`) to page from this ticket.")
    node: Ticket = strawberry.field(description="The ticket.")


@strawberry.type(description="A page of tickets.")
class TicketConnection:
    page: strawberry.Private[listing.Page]
    edges: list[TicketEdge] = strawberry.field(description="The tickets with their cursors.")
    page_info: PageInfo = strawberry.field(description="Where this page stands.")

    @strawberry.field(description="The tickets of this page.")
    def nodes(self) -> list[Ticket]:
        return [edge.node for edge in self.edges]

    @strawberry.field(
        description="How many tickets match the filter, across all pages. With a `search` term, counting stops at "
        "the server's search count limit (TICKETDESK_SEARCH_COUNT_LIMIT, 1000 by default): a totalCount equal to "
        "it means that many or more."
    )
    async def total_count(self) -> int:
        return await self.page.total_count()


@strawberry.type(description="How many tickets have a status.")
class StatusCount:
    status: Status = strawberry.field(description="The status.")
    count: int = strawberry.field(description="How many tickets have it.")


@strawberry.type(description="How many tickets have a priority.")
class PriorityCount:
    priority: Priority = strawberry.field(description="The priority.")
    count: int = strawberry.field(description="How many tickets have it.")


@strawberry.type(description="Ticket counts for dashboards and tab badges.")
class TicketCounts:
    total: int = strawberry.field(description="All matching tickets.")
    by_status: list[StatusCount] = strawberry.field(description="Per status, every status listed.")
    by_priority: list[PriorityCount] = strawberry.field(description="Per priority, every priority listed.")


@strawberry.type(description="The escalation analysis of a conversation.")
class EscalationAnalysis:
    should_escalate: bool = strawberry.field(description="Whether a human should take over.")
    category: Category = strawberry.field(description="The category the customer's words point to.")
    priority: Priority = strawberry.field(description="The priority they call for.")
    matched_keywords: list[str] = strawberry.field(description="The keywords that decided it (explainable).")
    suggested_subject: str = strawberry.field(description="A subject for a ticket about it.")


@gated
@strawberry.type(description="Reading tickets and who is calling.")
class Query:
    @strawberry.field(description="Who is calling.")
    def viewer(self, info: Info) -> Viewer:
        viewer = info.context.caller
        return Viewer(id=strawberry.ID(str(viewer.id)), role=viewer.role, name=viewer.name, email=viewer.email)

    @strawberry.field(description='One ticket by UUID or reference ("TCK-000042"); null if missing or not yours.')
    async def ticket(self, info: Info, id: strawberry.ID) -> Ticket | None:
        row = await tickets.get_ticket(info.context.caller, id)
        return Ticket.of(row) if row is not None else None

    @strawberry.field(
        description="Tickets the viewer may see, filtered and ordered; page with first/after (cursors), "
        "last/before (backwards) or first/offset (page numbers)."
    )
    async def tickets(
        self,
        info: Info,
        filter: TicketFilter | None = None,
        order_by: TicketOrder | None = None,
        first: Annotated[int | None, strawberry.argument(description="Page size, 1-100 (default 20).")] = None,
        after: Annotated[str | None, strawberry.argument(description="Start after this cursor.")] = None,
        last: Annotated[int | None, strawberry.argument(description="Page size backwards; needs before.")] = None,
        before: Annotated[str | None, strawberry.argument(description="End before this cursor.")] = None,
        offset: Annotated[int | None, strawberry.argument(description="Skip this many (with first).")] = None,
    ) -> TicketConnection:
        order = order_by or TicketOrder()
        page = await listing.list_tickets(
            info.context.caller,
            filter.to_query(info.context.settings) if filter else None,
            listing.PageRequest(
                order=order.field,
                descending=order.direction is OrderDirection.DESC,
                first=first,
                after=after,
                last=last,
                before=before,
                offset=offset,
            ),
            info.context.settings.max_page_size,
            search_count_limit=info.context.settings.search_count_limit,
        )
        wanted = selected(info, "edges", "node") | selected(info, "nodes")
        await preload(Ticket.preloads(info.context.loaders, page.tickets, wanted))
        edges = [TicketEdge(cursor=c, node=Ticket.of(t)) for c, t in zip(page.cursors, page.tickets, strict=True)]
        return TicketConnection(
            page=page,
            edges=edges,
            page_info=PageInfo.of(page.cursors, has_next=page.has_next, has_previous=page.has_previous),
        )

    @strawberry.field(description="Counts of the tickets the viewer may see, in total, by status and by priority.")
    async def ticket_counts(self, info: Info, filter: TicketFilter | None = None) -> TicketCounts:
        total, by_status, by_priority = await listing.count_tickets(
            info.context.caller, filter.to_query(info.context.settings) if filter else None
        )
        return TicketCounts(
            total=total,
            by_status=[StatusCount(status=s, count=by_status.get(s, 0)) for s in Status],
            by_priority=[PriorityCount(priority=p, count=by_priority.get(p, 0)) for p in Priority],
        )

    @strawberry.field(description="Escalation analysis of a conversation (only CUSTOMER lines count).")
    def analyze_conversation(self, info: Info, messages: list[ConversationMessageInput]) -> EscalationAnalysis:
        lines = [message.to_line() for message in messages]
        result = transfers.analyze_messages(lines, max_lines=info.context.settings.max_conversation_lines)
        return EscalationAnalysis(
            should_escalate=result.should_escalate,
            category=result.category,
            priority=result.priority,
            matched_keywords=list(result.matched_keywords),
            suggested_subject=result.suggested_subject,
        )

    @strawberry.field(
        description="The event log, oldest first, as far as the viewer may see it (staff; services see no "
        "internal content): poll with `after` = the last cursor seen (the same cursors as a subscription's "
        "`since`) to miss nothing and repeat nothing."
    )
    async def events(
        self,
        info: Info,
        after: Annotated[str | None, strawberry.argument(description="Start after this event's cursor.")] = None,
        first: Annotated[int | None, strawberry.argument(description="Page size, 1-100 (default 20).")] = None,
        filter: EventFilter | None = None,
    ) -> TicketEventConnection:
        page = await feed.event_feed(
            info.context.caller,
            after,
            first,
            filter.types if filter else None,
            filter.ticket_id if filter else None,
            info.context.settings.max_page_size,
        )
        return TicketEventConnection.of(page)

    @strawberry.field(description="Every outbound webhook, oldest first (admins).")
    async def webhooks(self) -> list[Webhook]:
        return [Webhook.of(row) for row in await webhooks.list_webhooks()]

    @strawberry.field(description="A webhook's deliveries, newest first, with their status and last error (admins).")
    async def webhook_deliveries(
        self,
        info: Info,
        webhook_id: strawberry.ID,
        status: DeliveryStatus | None = None,
        first: Annotated[int | None, strawberry.argument(description="Page size, 1-100 (default 20).")] = None,
        after: Annotated[str | None, strawberry.argument(description="Start after this delivery's cursor.")] = None,
    ) -> WebhookDeliveryConnection:
        page = await webhooks.list_deliveries(webhook_id, status, first, after, info.context.settings.max_page_size)
        edges = [
            WebhookDeliveryEdge(cursor=webhooks.delivery_cursor(row), node=WebhookDelivery.of(row))
            for row in page.deliveries
        ]
        cursors = [edge.cursor for edge in edges]
        return WebhookDeliveryConnection(
            edges=edges, page_info=PageInfo.of(cursors, has_next=page.has_next, has_previous=after is not None)
        )

    @strawberry.field(description="Agents and admins, for assignment (agents and admins only).")
    async def agents(self) -> list[Agent]:
        return [Agent.of(row) for row in await people.list_agents()]
