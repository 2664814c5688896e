"""Listing, filtering, searching, ordering and paging tickets, and counting them."""

from __future__ import annotations

import base64
import datetime as dt
import enum
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from tortoise.expressions import Q, RawSQL, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from ticketdesk.auth import Viewer
from ticketdesk.errors import BadUserInput
from ticketdesk.models import Message, Ticket
from ticketdesk.models.enums import Category, Priority, Role, Source, Status

DEFAULT_PAGE = 20
SEARCH_TERMS_MAX = 10


class OrderField(enum.Enum):
    """What a ticket list is sorted by; ties are broken by number."""

    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    PRIORITY = "severity"
    NUMBER = "number"


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

    order: OrderField = OrderField.CREATED_AT
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

    async def total_count(self) -> int:
        """How many tickets match the filter, ignoring paging."""
        return await self.query.count()


def visible_tickets(viewer: Viewer, where: TicketQuery | None) -> QuerySet[Ticket]:
    """The tickets the viewer may see that match `where`; customers are always scoped to their own."""
    where = where or TicketQuery()
    query = Ticket.all()
    if viewer.role is Role.CUSTOMER:
        query = query.filter(customer_id=viewer.id)
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
    for term in terms:
        messages = Message.filter(body__icontains=term)
        if not viewer.is_staff:
            messages = messages.filter(internal=False)
        query = query.filter(
            Q(reference__icontains=term)
            | Q(subject__icontains=term)
            | Q(description__icontains=term)
            | Q(id__in=Subquery(messages.values("ticket_id")))
        )
    return query


# Raw SQL because Tortoise binds Case/When results as parameters, which PostgreSQL then types as text.
SEVERITY = RawSQL(
    "CASE priority "
    + " ".join(f"WHEN '{priority.value}' THEN {priority.rank}" for priority in Priority)
    + " ELSE 0 END"
)


def _encode(ticket: Ticket, order: OrderField) -> str:
    value: Any = ticket.priority.rank if order is OrderField.PRIORITY else getattr(ticket, order.value)
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    raw = json.dumps([order.name, value, ticket.number], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, order: OrderField, name: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, value, number = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if kind != order.name or not isinstance(number, int):
            raise ValueError(kind)
        if order in (OrderField.CREATED_AT, OrderField.UPDATED_AT):
            value = dt.datetime.fromisoformat(value)
        elif not isinstance(value, int):
            raise ValueError(value)
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise BadUserInput(
            f"`{name}` is not a cursor of this list (cursors are only valid with the same orderBy)."
        ) from exc
    return value, number


def _beyond(order: OrderField, descending: bool, value: Any, number: int) -> Q:
    """Rows strictly after (value, number) in the given direction."""
    op = "lt" if descending else "gt"
    # Any, as Q's filter keywords are: mypy checks a `**` dict against Q's `join_type: str` keyword too.
    number_beyond: dict[str, Any] = {f"number__{op}": number}
    if order is OrderField.PRIORITY:
        beyond = [p for p in Priority if (p.rank < value if descending else p.rank > value)]
        same = [p for p in Priority if p.rank == value]
        return Q(priority__in=beyond) | Q(priority__in=same, **number_beyond)
    if order is OrderField.NUMBER:
        return Q(**number_beyond)
    return Q(**{f"{order.value}__{op}": value}) | Q(**{order.value: value, f"number__{op}": number})


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


async def list_tickets(viewer: Viewer, where: TicketQuery | None, page: PageRequest, max_size: int) -> Page:
    """One page of the tickets the viewer may see."""
    _check(page, max_size)
    base = visible_tickets(viewer, where)
    backwards = page.last is not None
    descending = page.descending != backwards
    size = page.last if backwards else (page.first or DEFAULT_PAGE)
    assert size is not None
    prefix = "-" if descending else ""
    ordered = base
    if page.order is OrderField.PRIORITY:
        ordered = ordered.annotate(severity=SEVERITY)
    ordered = ordered.order_by(f"{prefix}{page.order.value}", f"{prefix}number")
    cursor = page.before if backwards else page.after
    if cursor is not None:
        value, number = _decode(cursor, page.order, "before" if backwards else "after")
        ordered = ordered.filter(_beyond(page.order, descending, value, number))
    if page.offset:
        ordered = ordered.offset(page.offset)
    rows = list(await ordered.limit(size + 1))
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    return Page(
        tickets=rows,
        cursors=[_encode(ticket, page.order) for ticket in rows],
        has_next=cursor is not None if backwards else more,
        has_previous=more if backwards else (cursor is not None or bool(page.offset)),
        query=base,
    )


async def count_tickets(
    viewer: Viewer, where: TicketQuery | None
) -> tuple[int, dict[Status, int], dict[Priority, int]]:
    """Total, per-status and per-priority counts of the tickets the viewer may see."""
    query = visible_tickets(viewer, where)
    by_status = {
        Status(row["status"]): row["n"]
        for row in await query.annotate(n=Count("id")).group_by("status").values("status", "n")
    }
    by_priority = {
        Priority(row["priority"]): row["n"]
        for row in await query.annotate(n=Count("id")).group_by("priority").values("priority", "n")
    }
    return sum(by_status.values()), by_status, by_priority
