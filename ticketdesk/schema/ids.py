"""Turning GraphQL ID arguments into UUIDs."""

from __future__ import annotations

import uuid

from ticketdesk.errors import BadUserInput


def parse_uuid(value: str, name: str) -> uuid.UUID:
    """`value` as a UUID; BAD_USER_INPUT naming the argument otherwise."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise BadUserInput(f"`{name}` must be a UUID.") from None
