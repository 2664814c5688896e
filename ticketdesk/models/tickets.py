"""Tickets and the counter rows that number them without gaps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from tortoise import connections, fields
from tortoise.models import Model

from ticketdesk.models.enums import Category, Priority, Source, Status

if TYPE_CHECKING:
    from ticketdesk.models.people import Principal

REFERENCE_PREFIX = "TCK-"
MAX_NUMBER = 2**31 - 1  # tickets.number is an INT column


def reference_for(number: int) -> str:
    """The human-readable reference of ticket `number`, e.g. TCK-000042."""
    return f"{REFERENCE_PREFIX}{number:06d}"


class Counter(Model):
    """A named sequence, incremented inside the writing transaction, so a rollback leaves no hole."""

    name = fields.CharField(max_length=32, primary_key=True)
    value = fields.BigIntField(default=0)

    class Meta:
        table = "counters"


# One statement: the increment takes the row lock and reads the new value in the same round trip, which
# matters because every writer queues behind that lock until the holder commits.
NEXT_VALUES = {
    "postgres": 'UPDATE "counters" SET "value" = "value" + $1 WHERE "name" = $2 RETURNING "value"',
    "sqlite": 'UPDATE "counters" SET "value" = "value" + ? WHERE "name" = ? RETURNING "value"',
}


async def next_values(name: str, count: int = 1) -> int:
    """Reserve `count` values of counter `name` in the current transaction; returns the last one.

    The UPDATE takes the row lock until commit, so concurrent writers queue here and a rolled-back
    transaction gives its numbers back.
    """
    db = connections.get("default")
    rows = await db.execute_query_dict(NEXT_VALUES[db.capabilities.dialect], [count, name])
    if not rows:
        raise LookupError(f"counter {name!r} is missing: run `ticketdesk migrate`")
    return int(rows[0]["value"])


class Ticket(Model):
    """A customer's support request and its current state."""

    id = fields.UUIDField(primary_key=True)
    number = fields.IntField(unique=True)
    reference = fields.CharField(max_length=20, unique=True)
    customer: fields.ForeignKeyRelation[Principal] = fields.ForeignKeyField(
        "models.Principal", related_name="tickets", on_delete=fields.RESTRICT
    )
    subject = fields.CharField(max_length=255)
    description = fields.TextField()
    status = fields.CharEnumField(Status, max_length=16, default=Status.OPEN, db_index=True)
    priority = fields.CharEnumField(Priority, max_length=16, db_index=True)
    category = fields.CharEnumField(Category, max_length=32, db_index=True)
    source = fields.CharEnumField(Source, max_length=16)
    assignee: fields.ForeignKeyNullableRelation[Principal] = fields.ForeignKeyField(
        "models.Principal", related_name="assigned_tickets", null=True, on_delete=fields.SET_NULL
    )
    # {"value": whatever JSON value the client sent as createTicket's `errorDetails`}, or None.
    error_details: fields.JSONField[Any] = fields.JSONField(null=True)
    idempotency_key = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True, db_index=True)
    resolved_at = fields.DatetimeField(null=True)

    customer_id: UUID
    assignee_id: UUID | None

    class Meta:
        table = "tickets"
        unique_together = (("customer", "idempotency_key"),)
