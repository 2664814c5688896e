"""Checking and normalising what mutations take (text, URLs, JSON, timestamps); a refusal is VALIDATION naming
the field and saying what is allowed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import SplitResult, urlsplit

from ticketdesk.errors import BadUserInput, validation
from ticketdesk.models.attachments import URL_MAX
from ticketdesk.models.messages import BODY_MAX
from ticketdesk.parsing import text_problem, to_utc, without_controls

NAME_MAX = 255


def clean_text(value: str, field: str, *, limit: int = BODY_MAX, required: bool = True) -> str:
    """`value` without control characters (newline and tab stay) and trimmed; refused when it holds NUL, an
    unpaired surrogate or a bidirectional override, is empty, or is longer than `limit` characters."""
    if (problem := text_problem(value)) is not None:
        raise validation(f"{field} {problem}.", field)
    text = without_controls(value).strip()
    if required and not text:
        raise validation(f"{field} must not be empty.", field)
    if len(text) > limit:
        raise validation(f"{field} is {len(text)} characters long; the limit is {limit}.", field)
    return text


def clean_optional_text(value: str | None, field: str, *, limit: int = BODY_MAX) -> str | None:
    """Like clean_text, but None and blank mean 'not given'."""
    if value is None:
        return None
    return clean_text(value, field, limit=limit, required=False) or None


def clean_urls(urls: list[str] | None, field: str, *, allowed_hosts: list[str], limit: int) -> list[str]:
    """Attachment URLs: at most `limit`, absolute https, no credentials, of an allowed host when hosts are set."""
    urls = urls or []
    if len(urls) > limit:
        raise validation(f"{field} takes at most {limit} URLs; {len(urls)} were given.", field)
    return [_clean_url(raw, (field, str(index)), allowed_hosts) for index, raw in enumerate(urls)]


def _clean_url(raw: str, where: tuple[str, ...], allowed_hosts: list[str]) -> str:
    url = raw.strip()
    if len(url) > URL_MAX:
        raise validation(f"An attachment URL may be at most {URL_MAX} characters long.", *where)
    parts = _split(url)
    if parts is None or parts.scheme != "https" or not parts.hostname:
        raise validation("Attachment URLs must be absolute https:// URLs without spaces or control characters.", *where)
    if parts.username is not None or parts.password is not None:
        raise validation("Attachment URLs must not carry a user name or password.", *where)
    if allowed_hosts and parts.hostname.lower() not in allowed_hosts:
        raise validation(f"Attachments may only come from: {', '.join(allowed_hosts)}.", *where)
    return url


def _split(url: str) -> SplitResult | None:
    """The parts of a well-formed URL; None for one with whitespace, control characters or a bad port or host."""
    if any(character.isspace() or not character.isprintable() for character in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises ValueError for a port out of range
    except ValueError:  # e.g. an unclosed IPv6 bracket, a port of 99999
        return None
    return parts


def clean_json(value: Any, field: str, *, limit: int) -> Any:
    """Any JSON value, unchanged; refused above `limit` bytes of JSON or when it holds what no text may hold."""
    if value is None:
        return None
    try:
        # allow_nan=False: NaN and Infinity are not JSON, and PostgreSQL's json type refuses them.
        encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except RecursionError:
        raise validation(f"{field} is nested too deeply to store.", field) from None
    except (ValueError, TypeError):
        raise validation(f"{field} must be JSON: no NaN or Infinity.", field) from None
    # json.dumps writes NUL as an escape, so the strings themselves are looked at for it.
    if any("\x00" in text for text in _strings(value)):
        raise validation(f"{field} must not contain NUL characters.", field)
    if (problem := text_problem(encoded)) is not None:
        raise validation(f"{field} {problem}.", field)
    if (size := len(encoded.encode())) > limit:
        raise validation(f"{field} is {size} bytes of JSON; the limit is {limit}.", field)
    return value


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys included (iteratively: the value is already known to encode)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def clean_timestamp(value: dt.datetime | None, field: str) -> dt.datetime | None:
    """A client's timestamp in UTC (one without an offset is taken as UTC)."""
    if value is None:
        return None
    try:
        return to_utc(value, field)
    except BadUserInput as exc:
        raise validation(exc.message, field) from None


def filename_of(url: str) -> str | None:
    """The last path segment of an attachment URL, as the file's name."""
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return name[:NAME_MAX] or None
