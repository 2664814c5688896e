"""Small steps many tests take: make a ticket, move it, read its events."""

from __future__ import annotations

from typing import Any

from tests.conftest import Caller
from tests.operations import CHANGE_STATUS, CREATE_TICKET, GET_TICKET, ticket_input


async def create(caller: Caller, **overrides: Any) -> dict[str, Any]:
    """Create a ticket that must succeed; returns it."""
    data = await caller.data(CREATE_TICKET, {"input": ticket_input(**overrides)})
    assert data["createTicket"]["errors"] == []
    ticket: dict[str, Any] = data["createTicket"]["ticket"]
    return ticket


async def set_status(caller: Caller, ticket_id: str, status: str, note: str | None = None) -> dict[str, Any]:
    """changeTicketStatus's payload."""
    data = await caller.data(CHANGE_STATUS, {"id": ticket_id, "status": status, "note": note})
    payload: dict[str, Any] = data["changeTicketStatus"]
    return payload


async def walk(agent: Caller, ticket_id: str, *statuses: str) -> None:
    """Move a ticket through `statuses`, each step required to succeed."""
    for status in statuses:
        payload = await set_status(agent, ticket_id, status)
        assert payload["errors"] == [], payload


async def event_types(caller: Caller, ticket_id: str) -> list[str]:
    """The ticket's timeline as the caller sees it, as event types."""
    data = await caller.data(GET_TICKET, {"id": ticket_id})
    return [edge["node"]["type"] for edge in data["ticket"]["timeline"]["edges"]]
