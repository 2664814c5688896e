"""The domain's exceptions.

    TicketdeskError                 base of everything raised on purpose
    +-- RequestError                a GraphQL error with `extensions.code`; the whole field fails
    |   +-- Unauthenticated         no, bad or expired token            (UNAUTHENTICATED)
    |   +-- Forbidden               the caller's role may never do this (FORBIDDEN)
    |   +-- BadUserInput            malformed arguments, e.g. first: 1000 (BAD_USER_INPUT)
    |   +-- CursorExpired           a `since` cursor that is unknown or no longer kept (CURSOR_EXPIRED)
    |   +-- NotFound                a subscription to a ticket that is missing or not the caller's (NOT_FOUND)
    |   +-- QueryTooComplex         a document over a query limit, refused before it runs (QUERY_TOO_COMPLEX)
    |   +-- RateLimited             a principal over a rate limit, refused before it runs (RATE_LIMITED)
    +-- UserError                   a permitted operation refused because of input or state;
                                    the mutation rolls back and returns it in the payload's `errors`

Anything else that escapes a resolver is a bug: logged in full, masked for clients outside development.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from graphql import GraphQLError


class UserErrorCode(enum.Enum):
    """Why a permitted operation was refused."""

    NOT_FOUND = "NOT_FOUND"
    VALIDATION = "VALIDATION"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"


class TicketdeskError(Exception):
    """Base of the errors ticketdesk raises on purpose."""


class RequestError(TicketdeskError, GraphQLError):
    """A GraphQL error carrying `extensions.code`; never masked."""

    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        GraphQLError.__init__(self, message, extensions={"code": self.code})


class Unauthenticated(RequestError):
    """No token, or one that is malformed, badly signed or expired."""

    code = "UNAUTHENTICATED"


class Forbidden(RequestError):
    """The caller's role may never call this operation."""

    code = "FORBIDDEN"


class BadUserInput(RequestError):
    """Arguments that no caller may send, such as a page size above the limit."""

    code = "BAD_USER_INPUT"


class CursorExpired(RequestError):
    """A resume cursor the event log does not (or no longer) hold."""

    code = "CURSOR_EXPIRED"


class NotFound(RequestError):
    """A subscription names a ticket the caller cannot see (mutations say NOT_FOUND in their payload)."""

    code = "NOT_FOUND"


class QueryTooComplex(RequestError):
    """A document over a query limit (cost, depth, aliases, ...): `extensions.limit` and `extensions.actual`."""

    code = "QUERY_TOO_COMPLEX"

    def __init__(self, message: str, *, limit: int, actual: int) -> None:
        super().__init__(message)
        self.extensions = self.extensions_for(limit, actual)

    @classmethod
    def extensions_for(cls, limit: int, actual: int) -> dict[str, object]:
        """The error's extensions: its code, the limit passed and the value that passed it."""
        return {"code": cls.code, "limit": limit, "actual": actual}


class RateLimited(RequestError):
    """A principal over a rate limit: `extensions.retryAfter` says in how many seconds to try again."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(f"{message} Try again in {retry_after} s." if retry_after is not None else message)
        self.retry_after = retry_after
        if retry_after is not None:
            self.extensions = {"code": self.code, "retryAfter": retry_after}


class UserError(TicketdeskError):
    """A refusal the client handles as data: code, message and the input field it concerns."""

    def __init__(self, code: UserErrorCode, message: str, field: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = list(field) if field is not None else None


def not_found(what: str = "ticket", field: Sequence[str] = ("id",)) -> UserError:
    """The one answer for a missing object and for one the caller may not see."""
    return UserError(UserErrorCode.NOT_FOUND, f"No {what} with that id exists.", field)


def validation(message: str, *field: str) -> UserError:
    """An input value the store or the rules cannot take."""
    return UserError(UserErrorCode.VALIDATION, message, field)
