"""Download links of uploaded files: signed with the server's key, for one viewer, valid for a few minutes.

A link is `/attachments/<id>?viewer=<uuid>&role=<role>&expires=<unix time>&signature=<HMAC-SHA256>`. It works
without a token (download managers and `<img>` tags send none) for as long as it is valid, and only for what
the viewer it names may see when it is used: ticketdesk.downloads asks the policy again. The key is derived
from TICKETDESK_JWT_SECRET, so every process of one deployment accepts the links of the others.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from ticketdesk.models.enums import Role

PATH = "/attachments"
KEY_PURPOSE = b"ticketdesk attachment download links v1"


class InvalidLink(Exception):
    """A link that is malformed, altered or expired; all of them get the same 403."""


@dataclass(frozen=True)
class LinkHolder:
    """Whom a valid link was made for."""

    viewer_id: uuid.UUID
    role: Role


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), KEY_PURPOSE, hashlib.sha256).digest()


def _signature(secret: str, attachment_id: uuid.UUID, viewer_id: uuid.UUID, role: Role, expires: int) -> str:
    message = f"{attachment_id}|{viewer_id}|{role.value}|{expires}".encode()
    digest = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def download_link(
    secret: str, base_url: str, attachment_id: uuid.UUID, viewer_id: uuid.UUID, role: Role, seconds: int
) -> str:
    """The signed link through which `viewer_id` (in `role`) may download attachment `attachment_id`."""
    expires = int(time.time()) + seconds
    query = urlencode(
        {
            "viewer": str(viewer_id),
            "role": role.value.lower(),
            "expires": expires,
            "signature": _signature(secret, attachment_id, viewer_id, role, expires),
        }
    )
    return f"{base_url}{PATH}/{attachment_id}?{query}"


def verify_link(secret: str, attachment_id: str, query: Mapping[str, str]) -> tuple[uuid.UUID, LinkHolder]:
    """The attachment and the viewer a link was made for; InvalidLink unless it is intact and unexpired."""
    try:
        attachment = uuid.UUID(attachment_id)
        viewer = uuid.UUID(query["viewer"])
        role = Role(query["role"].upper())
        expires = int(query["expires"])
        signature = query["signature"]
    except (KeyError, ValueError) as exc:
        raise InvalidLink from exc
    expected = _signature(secret, attachment, viewer, role, expires)
    if not hmac.compare_digest(expected.encode(), signature.encode()) or expires < time.time():
        raise InvalidLink
    return attachment, LinkHolder(viewer, role)
