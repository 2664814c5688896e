"""Customers, agents, admins and services: known from their tokens' claims, upserted on first sight."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from ticketdesk.models.enums import Role


class Principal(Model):
    """Anyone who has called the API with a valid token, or for whom a service created a ticket."""

    id = fields.UUIDField(primary_key=True)
    role = fields.CharEnumField(Role, max_length=16)
    name = fields.CharField(max_length=255, null=True)
    email = fields.CharField(max_length=320, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "principals"
