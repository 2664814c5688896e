"""Tokens to viewers: verifying a JWT, reading its claims, and minting one for development.

What a viewer may then do or see is decided in ticketdesk.policy."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

import jwt

from ticketdesk.errors import BadUserInput, Unauthenticated
from ticketdesk.models.enums import Role
from ticketdesk.parsing import parse_uuid, text_problem, without_controls
from ticketdesk.settings import Settings

TOKEN_EXPIRED = "The token has expired; sign in again for a fresh one."


# The expiry of a viewer the server stands in for (a shared feed, a download link's holder, an inbound source):
# no token of theirs can expire.
NEVER_EXPIRES = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Viewer:
    """The authenticated caller, from a verified token's claims."""

    id: uuid.UUID
    role: Role
    name: str | None
    email: str | None
    expires_at: dt.datetime


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
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. "exp": Infinity, which JSON parsing lets in
        raise Unauthenticated("The token's claims are not valid.") from exc
    expires = claims["exp"]
    if isinstance(expires, bool) or not isinstance(expires, int | float):  # PyJWT also takes "123" as a time
        raise Unauthenticated("The token's `exp` claim must be a number (seconds since 1970).")
    # A token that lives long is a stolen token that works long: refuse what an identity provider should not issue.
    lifetime = expires - dt.datetime.now(dt.UTC).timestamp()
    if lifetime > settings.max_token_hours * 3600:
        raise Unauthenticated(
            f"The token expires more than {settings.max_token_hours:g} hours from now; ask for a shorter-lived one."
        )
    try:
        subject = parse_uuid(str(claims["sub"]), "sub")
    except BadUserInput as exc:
        raise Unauthenticated("The token's `sub` claim must be a UUID.") from exc
    try:
        role = Role(str(claims["role"]).upper())
    except ValueError as exc:
        raise Unauthenticated("The token's `role` must be customer, agent, admin or service.") from exc
    return Viewer(
        id=subject,
        role=role,
        name=_claim_text(claims, "name"),
        email=_claim_text(claims, "email"),
        expires_at=dt.datetime.fromtimestamp(expires, dt.UTC),
    )


class TokenVerifier:
    """Verifies tokens under one set of settings, remembering the last `size` it accepted.

    A client sends the same token with every request; checking its signature and claims again costs more
    than the rest of a small request's preparation. A remembered token is still refused once it expires
    (refusals are never remembered: lru_cache keeps no exceptions).
    """

    def __init__(self, settings: Settings, size: int = 10_000) -> None:
        self._decode = lru_cache(maxsize=size)(partial(decode_token, settings=settings))

    def viewer(self, token: str) -> Viewer:
        """The token's viewer; raises Unauthenticated with the reason."""
        viewer = self._decode(token)
        if viewer.expires_at <= dt.datetime.now(dt.UTC):
            raise Unauthenticated(TOKEN_EXPIRED)
        return viewer


def _claim_text(claims: Mapping[str, Any], name: str) -> str | None:
    """An optional text claim, as stored for the principal: at most 255 characters of clean text."""
    value = claims.get(name)
    if value is None:
        return None
    text = str(value)
    if (problem := text_problem(text)) is not None:
        raise Unauthenticated(f"The token's `{name}` claim {problem}.")
    return without_controls(text)[:255]


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


def authenticated(viewer: Viewer | None, refusal: Unauthenticated | None) -> Viewer:
    """The viewer, if a valid token came with the request and has not expired since; else UNAUTHENTICATED."""
    if viewer is None:
        raise refusal or Unauthenticated("Send `Authorization: Bearer <token>` with the request.")
    # A WebSocket outlives its token: operations sent on it after expiry are refused.
    if viewer.expires_at <= dt.datetime.now(dt.UTC):
        raise Unauthenticated(TOKEN_EXPIRED)
    return viewer
