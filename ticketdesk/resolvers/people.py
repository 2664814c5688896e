"""Customers and agents become known from their tokens' claims."""

from __future__ import annotations

import uuid

from ticketdesk.auth import STAFF, Viewer
from ticketdesk.errors import UserError, UserErrorCode, not_found
from ticketdesk.models import Principal
from ticketdesk.models.enums import Role


async def upsert_viewer(viewer: Viewer) -> None:
    """Store (or refresh) the viewer's claims; one statement, safe under concurrent first requests."""
    await Principal.bulk_create(
        [Principal(id=viewer.id, role=viewer.role, name=viewer.name, email=viewer.email)],
        on_conflict=["id"],
        update_fields=["role", "name", "email"],
    )


async def customer_for(viewer: Viewer, customer_id: uuid.UUID | None) -> uuid.UUID:
    """Whose ticket the viewer is creating: themself for a customer, the named customer for others."""
    if viewer.role is Role.CUSTOMER:
        if customer_id is not None and customer_id != viewer.id:
            raise UserError(UserErrorCode.FORBIDDEN, "Customers create tickets only for themselves.", ["customerId"])
        return viewer.id
    if customer_id is None:
        raise UserError(UserErrorCode.VALIDATION, "Name the customer this ticket is for (customerId).", ["customerId"])
    existing = await Principal.filter(id=customer_id).first()
    if existing is None:
        # A service may hand over a customer who has never called the API themself.
        await Principal.bulk_create([Principal(id=customer_id, role=Role.CUSTOMER)], ignore_conflicts=True)
    elif existing.role is not Role.CUSTOMER:
        raise UserError(UserErrorCode.VALIDATION, "customerId names a staff member, not a customer.", ["customerId"])
    return customer_id


async def agent_for(agent_id: uuid.UUID) -> Principal:
    """The agent or admin to assign; NOT_FOUND for unknown ids and for non-staff."""
    agent = await Principal.filter(id=agent_id).first()
    if agent is None or agent.role not in STAFF:
        raise not_found("agent", ("agentId",))
    return agent
