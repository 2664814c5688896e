"""Checking and normalising the text and URLs clients send; a refusal is VALIDATION naming the field."""

from __future__ import annotations

from urllib.parse import urlsplit

from ticketdesk.errors import validation
from ticketdesk.models.messages import BODY_MAX, URL_MAX

NAME_MAX = 255


def clean_text(value: str, field: str, *, limit: int = BODY_MAX, required: bool = True) -> str:
    """`value` trimmed, refused when empty or longer than `limit` characters."""
    text = value.strip()
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


def clean_urls(urls: list[str] | None, field: str, allowed_hosts: list[str]) -> list[str]:
    """Attachment URLs: https only, of an allowed host when hosts are configured."""
    cleaned: list[str] = []
    for index, raw in enumerate(urls or []):
        url = raw.strip()
        where = (field, str(index))
        if len(url) > URL_MAX:
            raise validation(f"An attachment URL may be at most {URL_MAX} characters long.", *where)
        try:
            parts = urlsplit(url)
        except ValueError:  # e.g. an unclosed IPv6 bracket
            parts = None
        if parts is None or parts.scheme != "https" or not parts.hostname:
            raise validation("Attachment URLs must be absolute https:// URLs.", *where)
        if allowed_hosts and parts.hostname.lower() not in allowed_hosts:
            raise validation(f"Attachments may only come from: {', '.join(allowed_hosts)}.", *where)
        cleaned.append(url)
    return cleaned


def filename_of(url: str) -> str | None:
    """The last path segment of an attachment URL, as the file's name."""
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return name[:NAME_MAX] or None
