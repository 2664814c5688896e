"""Inbound sources: other systems that open tickets through `POST /webhooks/inbound/{name}`, each with the secret
it signs its requests with (Standard Webhooks)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

NAME_MAX = 63


class InboundSource(Model):
    """A system allowed to send tickets in, and its signing secret (`whsec_...`, kept to verify signatures)."""

    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=NAME_MAX, unique=True)
    secret = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "inbound_sources"
