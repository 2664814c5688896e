"""Listing, filtering, searching, ordering and paging tickets, and counting them."""

from __future__ import annotations

import datetime as dt
import uuid
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from tortoise.expressions import Q, RawSQL, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from ticketdesk.auth import Viewer
from ticketdesk.errors import BadUserInput
from ticketdesk.models import Ticket
from ticketdesk.models.enums import Category, Priority, Source, Status, TicketOrderField
from ticketdesk.models.search import matching_tickets, planned_per_search
from ticketdesk.parsing import TicketPosition, parse_ticket_cursor, ticket_cursor
from ticketdesk.policy import scope_of

DEFAULT_PAGE = 20
SEARCH_TERMS_MAX = 10

# The column (or, for PRIORITY, the annotation) each order sorts on.
ORDER_COLUMN = {
    TicketOrderField.CREATED_AT: "created_at",
    TicketOrderField.UPDATED_AT: "updated_at",
    TicketOrderField.PRIORITY: "severity",
    TicketOrderField.NUMBER: "number",
}


@dataclass(frozen=True)
class TicketQuery:
    """The filters of `tickets` and `ticketCounts`: AND across fields, OR within a list."""

    status: list[Status] | None = None
    priority: list[Priority] | None = None
    category: list[Category] | None = None
    source: list[Source] | None = None
    assignee_id: uuid.UUID | None = None
    unassigned: bool | None = None
    customer_id: uuid.UUID | None = None
    search: str | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    updated_since: dt.datetime | None = None


@dataclass(frozen=True)
class PageRequest:
    """How much of the ordered list to return."""

    order: TicketOrderField = TicketOrderField.CREATED_AT
    descending: bool = True
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None
    offset: int | None = None


@dataclass
class Page:
    """One page of tickets with the cursors and flags of a relay connection."""

    tickets: list[Ticket]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    query: QuerySet[Ticket] = field(repr=False)
    # With a search term, counting stops here (None: counts every match); see `total_count`.
    count_limit: int | None = None

    async def total_count(self) -> int:
        """How many tickets match the filter, ignoring paging; with a search, at most `count_limit`.

        Counting the 90,000 matches of a common word means reading each of them, far slower than the page
        itself; a count capped at `count_limit` reads at most that many (and `count_limit` is the answer
        whenever there are that many or more).
        """
        if self.count_limit is None:
            return await self.query.count()
        # Tortoise's count() applies a limit in Python after counting everything, so the limit goes in a subquery.
        capped = self.query.limit(self.count_limit).values("id")
        async with planned_per_search():
            return await Ticket.filter(id__in=Subquery(capped)).count()


def visible_tickets(viewer: Viewer, where: TicketQuery | None) -> QuerySet[Ticket]:
    """The tickets the viewer may see that match `where`; customers are always scoped to their own."""
    where = where or TicketQuery()
    scope = scope_of(viewer)
    query = Ticket.filter(scope.tickets())
    for name in ("status", "priority", "category", "source"):
        values = getattr(where, name)
        if values:
            query = query.filter(**{f"{name}__in": list(values)})
    if where.assignee_id is not None:
        query = query.filter(assignee_id=where.assignee_id)
    if where.unassigned is not None:
        query = query.filter(assignee_id__isnull=where.unassigned)
    if where.customer_id is not None:
        query = query.filter(customer_id=where.customer_id)
    if where.created_after is not None:
        query = query.filter(created_at__gte=where.created_after)
    if where.created_before is not None:
        query = query.filter(created_at__lt=where.created_before)
    if where.updated_since is not None:
        query = query.filter(updated_at__gte=where.updated_since)
    terms = (where.search or "").split()
    if len(terms) > SEARCH_TERMS_MAX:
        raise BadUserInput(f"search takes at most {SEARCH_TERMS_MAX} terms.")
    if terms:
        # Internal notes are searched exactly when the scope may see them (ticketdesk.policy).
        query = query.filter(matching_tickets(terms, internal=scope.sees_message(internal=True)))
    return query


def _searching(where: TicketQuery | None) -> bool:
    """Whether `where` searches (at least one term)."""
    return where is not None and bool((where.search or "").split())


def _planned_for(where: TicketQuery | None) -> AbstractAsyncContextManager[None]:
    """Where the listing's queries run: planned for their terms when `where` searches (see planned_per_search)."""
    return planned_per_search() if _searching(where) else nullcontext()


# Raw SQL because Tortoise binds Case/When results as parameters, which PostgreSQL then types as text.
SEVERITY = RawSQL(
    "CASE priority "
    + " ".join(f"WHEN '{priority.value}' THEN {priority.rank}" for priority in Priority)
    + " ELSE 0 END"
)


def _position(ticket: Ticket, order: TicketOrderField) -> TicketPosition:
    value = ticket.priority.rank if order is TicketOrderField.PRIORITY else getattr(ticket, ORDER_COLUMN[order])
    return TicketPosition(order, value, ticket.number)


def _beyond(position: TicketPosition, descending: bool) -> Q:
    """Rows strictly after `position` in the given direction."""
    order, value, number = position.order, position.value, position.number
    op = "lt" if descending else "gt"
    # Any, as Q's filter keywords are: mypy checks a `**` dict against Q's `join_type: str` keyword too.
    number_beyond: dict[str, Any] = {f"number__{op}": number}
    if order is TicketOrderField.NUMBER:
        return Q(**number_beyond)
    if order is TicketOrderField.PRIORITY:
        assert isinstance(value, int)  # the severity rank (ticketdesk.parsing.parse_ticket_cursor)
        beyond = [p for p in Priority if (p.rank < value if descending else p.rank > value)]
        same = [p for p in Priority if p.rank == value]
        return Q(priority__in=beyond) | Q(priority__in=same, **number_beyond)
    column = ORDER_COLUMN[order]
    value_beyond: dict[str, Any] = {f"{column}__{op}": value}
    return Q(**value_beyond) | Q(**{column: value, **number_beyond})


def _check(page: PageRequest, max_size: int) -> None:
    for name in ("first", "last"):
        size = getattr(page, name)
        if size is not None and not 1 <= size <= max_size:
            raise BadUserInput(f"`{name}` must be between 1 and {max_size}.")
    if page.last is not None and page.before is None:
        raise BadUserInput("`last` pages backwards and needs `before`; use `first` from the start.")
    if page.last is not None and page.first is not None:
        raise BadUserInput("Give either `first` or `last`, not both.")
    if page.before is not None and page.last is None:
        raise BadUserInput("`before` goes with `last`.")
    if page.offset is not None:
        if page.offset < 0:
            raise BadUserInput("`offset` must not be negative.")
        if page.after is not None or page.last is not None:
            raise BadUserInput("`offset` goes with `first` only, not with cursors.")


async def list_tickets(
    viewer: Viewer, where: TicketQuery | None, page: PageRequest, max_size: int, *, search_count_limit: int
) -> Page:
    """One page of the tickets the viewer may see; a search's `total_count` stops at `search_count_limit`."""
    _check(page, max_size)
    base = visible_tickets(viewer, where)
    backwards = page.last is not None
    descending = page.descending != backwards
    size = page.last if backwards else (page.first or DEFAULT_PAGE)
    assert size is not None
    prefix = "-" if descending else ""
    ordered = base
    if page.order is TicketOrderField.PRIORITY:
        ordered = ordered.annotate(severity=SEVERITY)
    ordered = ordered.order_by(f"{prefix}{ORDER_COLUMN[page.order]}", f"{prefix}number")
    cursor = page.before if backwards else page.after
    if cursor is not None:
        position = parse_ticket_cursor(cursor, page.order, "before" if backwards else "after")
        ordered = ordered.filter(_beyond(position, descending))
    if page.offset:
        ordered = ordered.offset(page.offset)
    async with _planned_for(where):
        rows = list(await ordered.limit(size + 1))
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    return Page(
        tickets=rows,
        cursors=[ticket_cursor(_position(ticket, page.order)) for ticket in rows],
        has_next=cursor is not None if backwards else more,
        has_previous=more if backwards else (cursor is not None or bool(page.offset)),
        query=base,
        count_limit=search_count_limit if _searching(where) else None,
    )


async def count_tickets(
    viewer: Viewer, where: TicketQuery | None
) -> tuple[int, dict[Status, int], dict[Priority, int]]:
    """Total, per-status and per-priority counts of the tickets the viewer may see."""
    query = visible_tickets(viewer, where)
    async with _planned_for(where):
        by_status = {
            Status(row["status"]): row["n"]
            for row in await query.annotate(n=Count("id")).group_by("status").values("status", "n")
        }
        by_priority = {
            Priority(row["priority"]): row["n"]
            for row in await query.annotate(n=Count("id")).group_by("priority").values("priority", "n")
        }
    return sum(by_status.values()), by_status, by_priority
