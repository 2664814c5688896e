"""The search document of each ticket: one row per ticket holding every text `search` looks at.

`search` asks for tickets whose reference, subject, description or visible message bodies contain every
term. Asked of the tickets and messages tables, that is an OR across two tables per term, which
PostgreSQL cannot serve from its indexes (it walked a date index and sorted every message of a common
word). One row per ticket with three texts lets one trigram index per text answer each term:

- `head`: reference, subject and description;
- `public_text`: the bodies of the messages that are not internal notes, appended as they are written;
- `internal_text`: the bodies of internal notes, which only a scope that sees internal content searches.

Parts are joined with a space: a term never holds whitespace, so it cannot match across two parts.
The writers here run inside the transaction of the change they index (ticketdesk.resolvers.transaction),
so a document never disagrees with its rows. Rows loaded around the application (a bulk load with raw SQL)
need `rebuild_search_documents()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING
from uuid import UUID

from tortoise import connections, fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q, Subquery
from tortoise.models import Model
from tortoise.transactions import in_transaction

from ticketdesk.models.messages import Message

if TYPE_CHECKING:
    from ticketdesk.models.tickets import Ticket

SEPARATOR = " "
HEAD, PUBLIC, INTERNAL = "head", "public_text", "internal_text"


class TicketSearch(Model):
    """The text `search` matches for one ticket (see the module's docstring)."""

    ticket: fields.OneToOneRelation[Ticket] = fields.OneToOneField(
        "models.Ticket", related_name="search_document", on_delete=fields.CASCADE, primary_key=True
    )
    head = fields.TextField()
    public_text = fields.TextField(default="")
    internal_text = fields.TextField(default="")

    ticket_id: UUID

    class Meta:
        table = "ticket_search"


def head_of(ticket: Ticket) -> str:
    """The `head` text of a ticket as it is now."""
    return SEPARATOR.join((ticket.reference, ticket.subject, ticket.description))


async def index_ticket(ticket: Ticket) -> None:
    """Start the document of a ticket just inserted (inside the inserting transaction)."""
    await TicketSearch.create(ticket_id=ticket.id, head=head_of(ticket))


async def refresh_head(ticket: Ticket) -> None:
    """Rewrite `head` after the subject or description changed (inside the editing transaction)."""
    await TicketSearch.filter(ticket_id=ticket.id).update(head=head_of(ticket))


# The characters of message text each document keeps per kind (public, internal): search looks at a ticket's
# conversation up to there. Without a bound a ticket fed large messages makes every append (which rewrites the
# row and re-indexes its trigrams) slower than the last. TICKETDESK_SEARCH_TEXT_LIMIT sets it for appends.
TEXT_LIMIT = 100_000

# An append is one statement, and writes nothing once the text is full. Cutting at the limit (substr) and the
# CASE (no separator before the first body) keep a document written message by message identical to one
# `rebuild_search_documents` writes. The column comes from APPEND's keys only; parameters: body, ticket, limit.
_APPEND = (
    'UPDATE "ticket_search" SET "{{0}}" = '
    "substr(\"{{0}}\" || CASE WHEN \"{{0}}\" = '' THEN '' ELSE ' ' END || {body}, 1, {limit}) "
    'WHERE "ticket_id" = {ticket} AND length("{{0}}") < {limit}'
)
APPEND = {
    "postgres": _APPEND.format(body="$1", ticket="$2", limit="$3"),
    "sqlite": _APPEND.format(body="?1", ticket="?2", limit="?3"),
}


async def index_messages(messages: Iterable[Message], *, limit: int = TEXT_LIMIT) -> None:
    """Append the bodies of messages just stored to their tickets' documents (inside the storing transaction),
    one statement per ticket and kind (public or internal), each kind's text kept to `limit` characters."""
    batches: dict[tuple[UUID, bool], list[str]] = {}
    for message in messages:
        batches.setdefault((message.ticket_id, message.internal), []).append(message.body)
    db = connections.get("default")
    dialect = db.capabilities.dialect
    for (ticket_id, internal), bodies in batches.items():
        column = INTERNAL if internal else PUBLIC
        ticket_key = str(ticket_id) if dialect == "sqlite" else ticket_id
        await db.execute_query(APPEND[dialect].format(column), [SEPARATOR.join(bodies), ticket_key, limit])


def matching_tickets(terms: Sequence[str], *, internal: bool) -> Q:
    """A filter on tickets: every term occurs, case-insensitively, in the head or the message text of the
    ticket's document, internal notes included only when `internal` (the viewer's scope says whether).

    `icontains` escapes the LIKE wildcards and binds the term as a parameter; PostgreSQL serves each
    condition from the trigram index on the same expression (migration 0004). TicketSearch has no
    Meta.ordering, so the subquery carries no ORDER BY.
    """
    columns = (HEAD, PUBLIC, INTERNAL) if internal else (HEAD, PUBLIC)
    documents = TicketSearch.all()
    for term in terms:
        documents = documents.filter(Q(*(Q(**{f"{column}__icontains": term}) for column in columns), join_type="OR"))
    return Q(id__in=Subquery(documents.values("ticket_id")))


@asynccontextmanager
async def planned_per_search() -> AsyncIterator[None]:
    """Run the body's queries (the searches) planned for their actual terms.

    asyncpg prepares every statement, and after five runs PostgreSQL may switch a statement to a generic plan,
    made without the terms: that plan walks the date index checking each ticket, which is right for a common
    word and reads all 100,000 tickets for a rare one (measured: 3 ms, then 450 ms for the same query). Custom
    plans cost a few milliseconds of planning, which a search affords. SET LOCAL keeps it to this transaction.
    """
    db = connections.get("default")
    if db.capabilities.dialect != "postgres":
        yield
        return
    async with in_transaction() as connection:
        await connection.execute_script("SET LOCAL plan_cache_mode = force_custom_plan")
        yield


# One statement from the rows as they are; the bodies of each ticket in the order they were written.
REBUILD = """
INSERT INTO ticket_search (ticket_id, head, public_text, internal_text)
SELECT t.id, t.reference || ' ' || t.subject || ' ' || t.description,
       COALESCE(substr((SELECT {agg} FROM (SELECT body FROM messages m WHERE m.ticket_id = t.id AND NOT m.internal
                 ORDER BY m.created_at, m.position) AS b), 1, {limit}), ''),
       COALESCE(substr((SELECT {agg} FROM (SELECT body FROM messages m WHERE m.ticket_id = t.id AND m.internal
                 ORDER BY m.created_at, m.position) AS b), 1, {limit}), '')
FROM tickets t
"""
AGGREGATE = {"postgres": "string_agg(body, ' ')", "sqlite": "group_concat(body, ' ')"}


async def rebuild_search_documents(db: BaseDBAsyncClient | None = None, *, limit: int = TEXT_LIMIT) -> int:
    """Write every ticket's document afresh from its rows; returns how many there are.

    For the migration that introduces documents and after loading tickets or messages with raw SQL.
    Run it inside a transaction (or with writers stopped): it replaces every document. On PostgreSQL, ANALYZE
    ticket_search afterwards (or let autovacuum): the planner picks between its plans from those statistics.
    """
    db = db or connections.get("default")
    await db.execute_script("DELETE FROM ticket_search")
    await db.execute_script(REBUILD.format(agg=AGGREGATE[db.capabilities.dialect], limit=int(limit)))
    rows = await db.execute_query_dict("SELECT count(*) AS n FROM ticket_search")
    return int(rows[0]["n"])
