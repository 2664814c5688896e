"""Customers, agents and admins: known from their tokens' claims, named as owners and assignees."""

from __future__ import annotations

import uuid

from ticketdesk.auth import Viewer
from ticketdesk.errors import UserError, UserErrorCode, not_found
from ticketdesk.models import Principal
from ticketdesk.models.enums import Role
from ticketdesk.policy import ASSIGNABLE, filed_for


async def upsert_viewer(viewer: Viewer) -> None:
    """Store (or refresh) the viewer's claims; one statement, safe under concurrent first requests."""
    await Principal.bulk_create(
        [Principal(id=viewer.id, role=viewer.role, name=viewer.name, email=viewer.email)],
        on_conflict=["id"],
        update_fields=["role", "name", "email"],
    )


async def customer_for(viewer: Viewer, customer_id: uuid.UUID | None) -> uuid.UUID:
    """Whose ticket the viewer is filing (ticketdesk.policy.filed_for), known to the store as a customer."""
    owner = filed_for(viewer, customer_id)
    if viewer.role is Role.CUSTOMER:
        return owner  # themself, stored from their token's claims
    existing = await Principal.filter(id=owner).first()
    if existing is None:
        # A service may hand over a customer who has never called the API themself.
        await Principal.bulk_create([Principal(id=owner, role=Role.CUSTOMER)], ignore_conflicts=True)
    elif existing.role is not Role.CUSTOMER:
        raise UserError(UserErrorCode.VALIDATION, "customerId names a staff member, not a customer.", ["customerId"])
    return owner


async def assignee(agent_id: uuid.UUID) -> Principal:
    """The agent or admin to assign a ticket to; NOT_FOUND for unknown ids and for anyone else."""
    agent = await Principal.filter(id=agent_id).first()
    if agent is None or agent.role not in ASSIGNABLE:
        raise not_found("agent", ("agentId",))
    return agent


async def list_agents() -> list[Principal]:
    """Everyone a ticket may be assigned to, by name."""
    return list(await Principal.filter(role__in=list(ASSIGNABLE)).order_by("name", "id"))
