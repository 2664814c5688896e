"""Every identifier, cursor, datetime and text a client sends, parsed in one place; the codec of each cursor kind.

A malformed or out-of-range value raises BadUserInput naming the argument. That is the answer for query
and subscription arguments; the few places where the contract wants another code translate it once:
a mutation's target is NOT_FOUND (ticketdesk.resolvers.lookup), a mutation's input VALIDATION
(ticketdesk.resolvers.validation), a `since` cursor CURSOR_EXPIRED (ticketdesk.schema.subscription), a
token's claims UNAUTHENTICATED (ticketdesk.auth).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from ticketdesk.errors import BadUserInput
from ticketdesk.models.enums import Priority, TicketOrderField
from ticketdesk.models.tickets import MAX_NUMBER, REFERENCE_PREFIX

# Longer than any UUID spelling uuid.UUID accepts ("urn:uuid:{...}"), and than any reference.
TEXT_MAX = 64
MAX_SEQ = 2**63 - 1  # ticket_events.seq is a BIGINT
# ASCII only: with re.IGNORECASE alone, "K" would also match the Kelvin sign.
_REFERENCE = re.compile(rf"{REFERENCE_PREFIX}([0-9]{{1,10}})", re.IGNORECASE | re.ASCII)
EVENT_CURSOR_PREFIX = "ev:"


def parse_uuid(value: str, argument: str) -> uuid.UUID:
    """`value` as a UUID."""
    text = str(value).strip()
    # isascii: int() (inside uuid.UUID) takes any Unicode digit, so "١٢…" would alias a real id.
    if len(text) <= TEXT_MAX and text.isascii():
        try:
            return uuid.UUID(text)
        except ValueError:
            pass
    raise BadUserInput(f"`{argument}` must be a UUID.")


@dataclass(frozen=True)
class TicketRef:
    """A ticket named by its UUID or by its reference number; `lookup` is the matching store filter."""

    id: uuid.UUID | None = None
    number: int | None = None

    @property
    def lookup(self) -> dict[str, Any]:
        """Keyword filter on tickets for this reference."""
        return {"id": self.id} if self.id is not None else {"number": self.number}


def parse_ticket_ref(value: str, argument: str) -> TicketRef:
    """A ticket's UUID or its reference ("TCK-000042", any case)."""
    text = str(value).strip()
    found = _REFERENCE.fullmatch(text) if len(text) <= TEXT_MAX else None
    if found is not None:
        number = int(found.group(1))
        if 1 <= number <= MAX_NUMBER:
            return TicketRef(number=number)
    else:
        try:
            return TicketRef(id=parse_uuid(text, argument))
        except BadUserInput:
            pass
    raise BadUserInput(f"`{argument}` must be a ticket's UUID or its reference, such as {REFERENCE_PREFIX}000042.")


def event_cursor(seq: int) -> str:
    """The opaque cursor of event `seq`; cursors sort like the events they name."""
    return base64.urlsafe_b64encode(f"{EVENT_CURSOR_PREFIX}{seq}".encode()).decode()


def parse_event_cursor(cursor: str, argument: str) -> int:
    """The event number behind an event cursor."""
    text = _unbase64(cursor)
    if text is not None and text.startswith(EVENT_CURSOR_PREFIX):
        digits = text[len(EVENT_CURSOR_PREFIX) :]
        if digits.isascii() and digits.isdigit() and len(digits) <= 19 and 1 <= int(digits) <= MAX_SEQ:
            return int(digits)
    raise BadUserInput(f"`{argument}` is not an event cursor.")


@dataclass(frozen=True)
class TicketPosition:
    """Where a ticket stands in a list ordered by `order`: its sort value and its number (the tie-break)."""

    order: TicketOrderField
    value: dt.datetime | int
    number: int


def ticket_cursor(position: TicketPosition) -> str:
    """The opaque cursor of a ticket's position in a list; valid only with the same order."""
    value = position.value.isoformat() if isinstance(position.value, dt.datetime) else position.value
    raw = json.dumps([position.order.name, value, position.number], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def parse_ticket_cursor(cursor: str, order: TicketOrderField, argument: str) -> TicketPosition:
    """The list position behind a ticket cursor, which must have been issued for `order`."""
    try:
        kind, value, number = json.loads(_unbase64(cursor) or "null")
        if kind != order.name or type(number) is not int or not 1 <= number <= MAX_NUMBER:
            raise ValueError(kind)
        if order in (TicketOrderField.CREATED_AT, TicketOrderField.UPDATED_AT):
            when = dt.datetime.fromisoformat(value)
            if when.tzinfo is None:
                raise ValueError(value)
            return TicketPosition(order, when.astimezone(dt.UTC), number)
        valid = range(len(Priority)) if order is TicketOrderField.PRIORITY else range(number, number + 1)
        if type(value) is not int or value not in valid:
            raise ValueError(value)
        return TicketPosition(order, value, number)
    except (ValueError, TypeError, OverflowError):
        raise BadUserInput(
            f"`{argument}` is not a cursor of this list (cursors are only valid with the same orderBy)."
        ) from None


def _unbase64(cursor: str) -> str | None:
    """The text inside a base64url cursor (padding optional); None when it is not one, to the letter."""
    if not isinstance(cursor, str) or len(cursor) > 256 or not cursor.isascii():
        return None
    try:
        raw = base64.b64decode(cursor.rstrip("=") + "=" * (-len(cursor.rstrip("=")) % 4), altchars=b"-_", validate=True)
        return raw.decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def to_utc(value: dt.datetime, argument: str) -> dt.datetime:
    """`value` in UTC (a value without an offset is taken as UTC already)."""
    try:
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise BadUserInput(f"`{argument}` is out of range once converted to UTC.") from None


# Refused in any text: NUL, unpaired surrogates (not text at all: no store can encode them), and the
# bidirectional overrides and isolates that make text display in another order than it is stored.
_REFUSED_CHARACTERS = re.compile("[\x00\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
# Dropped from any text: control characters other than newline and tab (C0, DEL and C1).
_CONTROL_CHARACTERS = re.compile("[\x01-\x08\x0b-\x1f\x7f-\x9f]")


def text_problem(text: str) -> str | None:
    """Why `text` cannot be taken at all (NUL, an unpaired surrogate, a bidirectional override), or None."""
    found = _REFUSED_CHARACTERS.search(text)
    if found is None:
        return None
    character = found.group()
    if character == "\x00":
        return "must not contain NUL characters"
    if "\ud800" <= character <= "\udfff":
        return "must not contain unpaired surrogates (it is not valid Unicode text)"
    return f"must not contain bidirectional control characters (found U+{ord(character):04X})"


def without_controls(text: str) -> str:
    """`text` without control characters other than newline and tab."""
    return _CONTROL_CHARACTERS.sub("", text)


def parse_text(value: str, argument: str, *, limit: int) -> str:
    """A query argument's text: refused (BAD_USER_INPUT) when it holds what no text may hold or is too long."""
    if len(value) > limit:
        raise BadUserInput(f"`{argument}` is {len(value)} characters long; the limit is {limit}.")
    if (problem := text_problem(value)) is not None:
        raise BadUserInput(f"`{argument}` {problem}.")
    return without_controls(value)
