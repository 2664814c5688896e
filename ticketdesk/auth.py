"""Tokens to viewers, and the permission rules every layer shares (queries, mutations, subscriptions)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from ticketdesk.errors import Forbidden, Unauthenticated
from ticketdesk.models.enums import Role
from ticketdesk.settings import Settings

STAFF = frozenset({Role.AGENT, Role.ADMIN})
TOKEN_EXPIRED = "The token has expired; sign in again for a fresh one."


@dataclass(frozen=True)
class Viewer:
    """The authenticated caller, from a verified token's claims."""

    id: uuid.UUID
    role: Role
    name: str | None
    email: str | None
    expires_at: dt.datetime

    @property
    def is_staff(self) -> bool:
        """Agents and admins: they see every ticket and internal notes."""
        return self.role in STAFF


def decode_token(token: str, settings: Settings) -> Viewer:
    """Verify a JWT and read its claims; raises Unauthenticated with the reason."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[settings.jwt_algorithm],
            options={"require": ["sub", "exp", "role"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated(TOKEN_EXPIRED) from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"The token is not valid: {exc}.") from exc
    try:
        subject = uuid.UUID(str(claims["sub"]))
    except ValueError as exc:
        raise Unauthenticated("The token's `sub` claim must be a UUID.") from exc
    try:
        role = Role(str(claims["role"]).upper())
    except ValueError as exc:
        raise Unauthenticated("The token's `role` must be customer, agent, admin or service.") from exc
    return Viewer(
        id=subject,
        role=role,
        name=_optional_str(claims.get("name")),
        email=_optional_str(claims.get("email")),
        expires_at=dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC),
    )


def _optional_str(value: Any) -> str | None:
    return str(value)[:255] if value is not None else None


def bearer_token(headers: Mapping[str, Any]) -> str | None:
    """The token of an `Authorization: Bearer ...` header (key matched case-insensitively), if any."""
    for key, value in headers.items():
        if key.lower() == "authorization" and isinstance(value, str):
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("The Authorization header must be `Bearer <token>`.")
            return token.strip()
        if key == "authToken" and isinstance(value, str):
            return value.strip()
    return None


def mint_token(
    settings: Settings,
    role: Role,
    subject: uuid.UUID,
    *,
    name: str | None = None,
    email: str | None = None,
    lifetime: dt.timedelta = dt.timedelta(hours=12),
) -> str:
    """A signed token for development and tests."""
    claims: dict[str, Any] = {
        "sub": str(subject),
        "role": role.value.lower(),
        "exp": dt.datetime.now(dt.UTC) + lifetime,
    }
    if name is not None:
        claims["name"] = name
    if email is not None:
        claims["email"] = email
    return jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm)


def require(viewer: Viewer | None, error: Unauthenticated | None, *roles: Role) -> Viewer:
    """The viewer, if authenticated and (when `roles` are given) in one of them."""
    if viewer is None:
        raise error or Unauthenticated("Send `Authorization: Bearer <token>` with the request.")
    # A WebSocket outlives its token: operations sent on it after expiry are refused.
    if viewer.expires_at <= dt.datetime.now(dt.UTC):
        raise Unauthenticated(TOKEN_EXPIRED)
    if roles and viewer.role not in roles:
        allowed = ", ".join(sorted(role.value.lower() for role in roles))
        raise Forbidden(f"The {viewer.role.value.lower()} role may not do this (allowed: {allowed}).")
    return viewer


def owns(viewer: Viewer, customer_id: object) -> bool:
    """Whether the viewer may see a ticket of `customer_id`: staff see all, customers their own."""
    return viewer.is_staff or (viewer.role is Role.CUSTOMER and viewer.id == customer_id)


def sees_internal(viewer: Viewer) -> bool:
    """Whether the viewer may see internal notes (and the events that carry them)."""
    return viewer.is_staff


def sees_event(viewer: Viewer, customer_id: object, event_type: str) -> bool:
    """Whether the viewer may see an event of a ticket of `customer_id`: customers never see notes."""
    return owns(viewer, customer_id) and (viewer.is_staff or event_type != "NOTE_ADDED")


def event_scope(viewer: Viewer) -> dict[str, object]:
    """`sees_event` as event-log query filters, for reading the log (timeline, subscription replay)."""
    if viewer.is_staff:
        return {}
    if viewer.role is Role.CUSTOMER:
        return {"ticket__customer_id": viewer.id, "type__not": "NOTE_ADDED"}
    return {"seq__lt": 0}  # sees no ticket: matches nothing
