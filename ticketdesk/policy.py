"""Who may do what, and who may see what: the one place ticketdesk decides either.

- `PERMISSIONS` names the roles that may call each GraphQL operation. The schema puts a gate built from it
  on every root field (a root field without an entry stops the schema from being built), and the
  authorization tests read the same table.
- `scope_of(viewer)` is what a viewer may see: whose tickets, and whether internal content (internal
  notes and the events that carry them). A `Scope` renders itself as query filters for everything read
  from the store (lists, counts, search, timelines, subscription replay) and as predicates for what is
  already in memory (live events, a ticket's messages), so reads and live delivery cannot disagree.
- The object rules that depend on who is asking: the status workflow per role, whose tickets a caller
  may file, and who may be assigned a ticket.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from tortoise.expressions import Q

from ticketdesk.auth import NEVER_EXPIRES, Viewer, authenticated
from ticketdesk.errors import Forbidden, Unauthenticated, UserError, UserErrorCode
from ticketdesk.models.enums import Priority, Role, SenderType, Status

EVERYONE = frozenset(Role)
# People read and follow tickets; a service only acts for a customer (it files, it does not browse).
PEOPLE = frozenset({Role.CUSTOMER, Role.AGENT, Role.ADMIN})
STAFF = frozenset({Role.AGENT, Role.ADMIN})

PERMISSIONS: Mapping[str, frozenset[Role]] = MappingProxyType(
    {
        # Queries
        "viewer": EVERYONE,
        "ticket": PEOPLE,
        "tickets": PEOPLE,
        "ticketCounts": PEOPLE,
        "analyzeConversation": EVERYONE,
        "agents": STAFF,
        # A backend's catch-up by polling: staff, and services as customer-facing integrations.
        "events": frozenset({Role.AGENT, Role.ADMIN, Role.SERVICE}),
        "webhooks": frozenset({Role.ADMIN}),
        "webhookDeliveries": frozenset({Role.ADMIN}),
        # Mutations
        "createTicket": EVERYONE,
        "createFromAITransfer": frozenset({Role.CUSTOMER, Role.SERVICE}),
        "updateTicket": STAFF,
        "changeTicketStatus": PEOPLE,
        "assignTicket": STAFF,
        "addMessage": PEOPLE,
        "addInternalNote": STAFF,
        "requestEscalation": PEOPLE,
        "decideEscalation": frozenset({Role.ADMIN}),
        "submitFeedback": frozenset({Role.CUSTOMER}),
        "uploadAttachment": PEOPLE,
        "createInboundSource": frozenset({Role.ADMIN}),
        "createWebhook": frozenset({Role.ADMIN}),
        "updateWebhook": frozenset({Role.ADMIN}),
        "deleteWebhook": frozenset({Role.ADMIN}),
        "rotateWebhookSecret": frozenset({Role.ADMIN}),
        "redeliverWebhook": frozenset({Role.ADMIN}),
        # Subscriptions
        "ticketEvents": PEOPLE,
        "ticketStatusChanged": PEOPLE,
    }
)


def authorize(viewer: Viewer | None, refusal: Unauthenticated | None, operation: str) -> Viewer:
    """The viewer, if authenticated and allowed to call `operation`; else UNAUTHENTICATED or FORBIDDEN."""
    viewer = authenticated(viewer, refusal)
    roles = PERMISSIONS[operation]
    if viewer.role not in roles:
        allowed = ", ".join(sorted(role.value.lower() for role in roles))
        raise Forbidden(f"The {viewer.role.value.lower()} role may not call {operation} (allowed: {allowed}).")
    return viewer


@dataclass(frozen=True)
class Scope:
    """What one viewer may see: the tickets of `customer_id` (None: of every customer), and whether internal
    content: internal notes, internal files and the events that carry them, staff's e-mail addresses, escalation
    decision notes, and the reasons of escalations someone else requested."""

    customer_id: uuid.UUID | None
    internal: bool

    def sees_ticket(self, customer_id: uuid.UUID) -> bool:
        """Whether a ticket of `customer_id` is in view."""
        return self.customer_id is None or self.customer_id == customer_id

    def tickets(self) -> Q:
        """`sees_ticket` as a filter on tickets."""
        return Q() if self.customer_id is None else Q(customer_id=self.customer_id)

    def sees_message(self, internal: bool) -> bool:
        """Whether a message (internal or not) of a ticket in view may be shown."""
        return self.internal or not internal

    def messages(self) -> Q:
        """`sees_message` as a filter on messages."""
        return Q() if self.internal else Q(internal=False)

    def sees_escalation_reason(self, requested_by: uuid.UUID) -> bool:
        """Whether the reason of an escalation request (of a ticket in view) may be shown: staff see every
        reason, a customer only their own."""
        return self.internal or (self.customer_id is not None and requested_by == self.customer_id)

    def sees_event(self, customer_id: uuid.UUID, internal: bool) -> bool:
        """Whether an event (carrying internal content or not) of a ticket of `customer_id` is in view."""
        return self.sees_ticket(customer_id) and self.sees_message(internal)

    def events(self) -> Q:
        """`sees_event` as a filter on the event log."""
        where = Q() if self.customer_id is None else Q(ticket__customer_id=self.customer_id)
        return where if self.internal else where & Q(internal=False)

    def sees_attachment(self, internal: bool) -> bool:
        """Whether an attachment (internal or not) of a ticket in view may be shown or downloaded. A pending
        upload, attached to nothing yet, is its uploader's alone: see `sees_pending_upload`."""
        return self.internal or not internal


def sees_pending_upload(viewer_id: uuid.UUID, uploader_id: uuid.UUID | None) -> bool:
    """Whether a viewer may see (and attach) an upload that is attached to nothing yet: only who uploaded it."""
    return uploader_id is not None and uploader_id == viewer_id


def scope_of(viewer: Viewer) -> Scope:
    """Staff see every ticket and internal content; customers their own tickets without it.

    A service is an integration acting for any customer, so its scope is every ticket without internal
    content; what it can actually read is bounded by PERMISSIONS, which today lets it read only the tickets
    its own createTicket / createFromAITransfer calls return.
    """
    if viewer.role in STAFF:
        return Scope(customer_id=None, internal=True)
    if viewer.role is Role.CUSTOMER:
        return Scope(customer_id=viewer.id, internal=False)
    return Scope(customer_id=None, internal=False)


def stand_in(scope: Scope) -> Viewer:
    """A viewer who sees exactly `scope` and whose token never expires: whom a shared subscription feed renders
    events for. Sound because below a root field nothing depends on the viewer but through `scope_of`."""
    if scope.internal and scope.customer_id is None:
        role, principal = Role.AGENT, uuid.UUID(int=0)
    elif not scope.internal and scope.customer_id is not None:
        role, principal = Role.CUSTOMER, scope.customer_id
    elif not scope.internal:
        role, principal = Role.SERVICE, uuid.UUID(int=0)
    else:
        raise ValueError(f"no viewer has the scope {scope}")
    return Viewer(id=principal, role=role, name=None, email=None, expires_at=NEVER_EXPIRES)


# The status workflow: the statuses each side may move a ticket to, from each status.
STAFF_TRANSITIONS: Mapping[Status, frozenset[Status]] = MappingProxyType(
    {
        Status.OPEN: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
        Status.IN_PROGRESS: frozenset({Status.OPEN, Status.RESOLVED, Status.CLOSED}),
        Status.RESOLVED: frozenset({Status.CLOSED, Status.REOPENED}),
        Status.CLOSED: frozenset({Status.REOPENED}),
        Status.REOPENED: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    }
)
CUSTOMER_TRANSITIONS: Mapping[Status, frozenset[Status]] = MappingProxyType(
    {Status.RESOLVED: frozenset({Status.CLOSED, Status.REOPENED})}
)


def next_statuses(viewer: Viewer, current: Status) -> frozenset[Status]:
    """The statuses `viewer` may move a ticket in `current` to."""
    table = CUSTOMER_TRANSITIONS if viewer.role is Role.CUSTOMER else STAFF_TRANSITIONS
    return table.get(current, frozenset())


def filed_for(viewer: Viewer, customer_id: uuid.UUID | None) -> uuid.UUID:
    """The customer a ticket filed by `viewer` belongs to: a customer's own, the named one for anyone else."""
    if viewer.role is Role.CUSTOMER:
        if customer_id is not None and customer_id != viewer.id:
            raise UserError(UserErrorCode.FORBIDDEN, "Customers create tickets only for themselves.", ["customerId"])
        return viewer.id
    if customer_id is None:
        raise UserError(UserErrorCode.VALIDATION, "Name the customer this ticket is for (customerId).", ["customerId"])
    return customer_id


# Who may work a ticket, and so be assigned one.
ASSIGNABLE = STAFF
# Who may read a process's operational details (/readyz beyond its status) from afar.
OPERATORS = STAFF

# The lines of an AI conversation a customer or a service hands over: never words put in staff's mouth.
HANDOFF_SENDERS = frozenset({SenderType.CUSTOMER, SenderType.AI})


def check_priority(viewer: Viewer, priority: Priority | None, field: str) -> None:
    """Refuse CRITICAL from a customer: staff and the escalation analysis decide that, customers ask for it."""
    if priority is Priority.CRITICAL and viewer.role is Role.CUSTOMER:
        raise UserError(
            UserErrorCode.VALIDATION,
            "Customers may set a priority up to HIGH; CRITICAL is set by staff or by the analysis of the "
            "conversation (or ask for it with requestEscalation).",
            [field],
        )
