"""The actor a mutation works for, and the one transaction that holds its change and its events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from ticketdesk.auth import Viewer
from ticketdesk.models import Ticket
from ticketdesk.models.events import Change, LoggedEvent, record
from ticketdesk.policy import Scope, scope_of
from ticketdesk.settings import Settings

Publish = Callable[[Sequence[LoggedEvent]], Awaitable[None]]


@dataclass(frozen=True)
class Actor:
    """Who a mutation acts for, the settings it applies, and where its committed events go."""

    viewer: Viewer
    settings: Settings
    publish: Publish

    @property
    def scope(self) -> Scope:
        """What the actor may see (ticketdesk.policy)."""
        return scope_of(self.viewer)


@dataclass
class Transaction:
    """One mutation's transaction; `record` appends events, published once the transaction commits."""

    actor: Actor
    events: list[LoggedEvent] = field(default_factory=list)

    async def record(self, ticket: Ticket, *changes: Change) -> None:
        """Record `changes` of `ticket` as events; call after the change's own writes (`ticket` as it is now)."""
        viewer = self.actor.viewer
        rows = await record(ticket, viewer.id, viewer.role, list(changes))
        self.events.extend(LoggedEvent(row, ticket) for row in rows)


@asynccontextmanager
async def transaction(actor: Actor) -> AsyncIterator[Transaction]:
    """Run the body in one transaction; any exception (UserError included) rolls everything back."""
    tx = Transaction(actor)
    async with in_transaction():
        yield tx
    if tx.events:
        await actor.publish(tx.events)
