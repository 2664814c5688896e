"""GET /attachments/{id}: an uploaded file's bytes, through a signed link (ticketdesk.links), streamed.

The link says whom it was made for; whether they may see the file is asked of the policy when the link is used,
so a file that became internal, or a ticket that is no longer theirs, is refused even within the link's few
minutes. A request that also carries a token must carry one of the same scope as the link's viewer. Every
refusal is the same 403 with the same body: it tells nothing about whether the file exists.

Responses are for saving, never for rendering: the sniffed Content-Type, `Content-Disposition: attachment`,
`X-Content-Type-Options: nosniff`, a CSP that forbids everything, `Cache-Control: private, no-store`; single
byte ranges (`Range`, `If-Range` against the SHA-256 ETag) so mobile clients resume large downloads.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from ticketdesk.auth import NEVER_EXPIRES, TokenVerifier, Viewer, bearer_token
from ticketdesk.errors import Unauthenticated
from ticketdesk.filetypes import TEXT_TYPES
from ticketdesk.links import InvalidLink, LinkHolder, verify_link
from ticketdesk.models import Attachment, Ticket
from ticketdesk.models.blobs import ContentStore
from ticketdesk.models.enums import AttachmentKind
from ticketdesk.policy import scope_of, sees_pending_upload
from ticketdesk.settings import Settings

REFUSED = (
    "This download link is not valid: it has expired, was altered, or is not yours. "
    "Query the attachment's url again for a fresh link."
)
RANGE = re.compile(r"bytes=([0-9]{0,18})-([0-9]{0,18})")


def download_endpoint(
    settings: Settings, tokens: TokenVerifier, store: ContentStore
) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint serving download links."""

    async def download(request: Request) -> Response:
        try:
            attachment_id, holder = verify_link(settings.jwt_secret, request.path_params["id"], request.query_params)
        except InvalidLink:
            return _refused()
        if not _same_scope(request, tokens, holder):
            return _refused()
        row = await Attachment.filter(id=attachment_id, kind=AttachmentKind.FILE).first()
        if row is None or row.sha256 is None or not await _may_see(holder, row):
            return _refused()
        if row.redacted_at is not None:
            return PlainTextResponse("This file was removed; its record remains.", status_code=410, headers=_HEADERS)
        return _serve(request, store, row)

    return download


_HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Referrer-Policy": "no-referrer",
}


def _refused() -> Response:
    return PlainTextResponse(REFUSED, status_code=403, headers=_HEADERS)


def _same_scope(request: Request, tokens: TokenVerifier, holder: LinkHolder) -> bool:
    """A request with a token must come from someone who sees what the link's viewer sees."""
    try:
        token = bearer_token(request.headers)
        if token is None:
            return True
        caller = tokens.viewer(token)
    except Unauthenticated:
        return False
    return scope_of(caller) == scope_of(_viewer(holder))


def _viewer(holder: LinkHolder) -> Viewer:
    return Viewer(id=holder.viewer_id, role=holder.role, name=None, email=None, expires_at=NEVER_EXPIRES)


async def _may_see(holder: LinkHolder, row: Attachment) -> bool:
    if row.ticket_id is None:
        return sees_pending_upload(holder.viewer_id, row.uploader_id)
    scope = scope_of(_viewer(holder))
    ticket = await Ticket.filter(id=row.ticket_id).first()
    return ticket is not None and scope.sees_ticket(ticket.customer_id) and scope.sees_attachment(row.internal)


def _serve(request: Request, store: ContentStore, row: Attachment) -> Response:
    size = int(row.size or 0)
    etag = f'"{row.sha256}"'
    media = row.content_type or "application/octet-stream"
    headers = {
        **_HEADERS,
        "Content-Disposition": _disposition(row.filename or "attachment"),
        "Accept-Ranges": "bytes",
        "ETag": etag,
    }
    start, end, status = 0, size, 200
    wanted = request.headers.get("range")
    # If-Range: resume only if the file is still the one the client started (a file's content never changes).
    if wanted is not None and request.headers.get("if-range", etag) == etag:
        try:
            parsed = _byte_range(wanted, size)
        except Unsatisfiable:
            headers["Content-Range"] = f"bytes */{size}"
            return Response(status_code=416, headers=headers)
        if parsed is not None:
            (start, end), status = parsed, 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    media_type = f"{media}; charset=utf-8" if media in TEXT_TYPES else media
    if request.method == "HEAD" or start == end:
        return Response(status_code=status, headers=headers, media_type=media_type)
    assert row.sha256 is not None
    return StreamingResponse(
        _bytes(store, row.sha256, start, end), status_code=status, headers=headers, media_type=media_type
    )


async def _bytes(store: ContentStore, sha256: str, start: int, end: int) -> AsyncIterator[bytes]:
    async for chunk in store.read(sha256, start, end):
        yield chunk


class Unsatisfiable(Exception):
    """A range that lies outside the file (HTTP 416)."""


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The one byte range `header` asks for, as [start, end); None for a header ticketdesk does not honour
    (several ranges, another unit, malformed: the whole file is served, as RFC 9110 allows)."""
    match = RANGE.fullmatch(header.strip())
    if match is None or (not match[1] and not match[2]):
        return None
    if not match[1]:  # the last N bytes
        suffix = int(match[2])
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return max(size - suffix, 0), size
    start = int(match[1])
    end = min(int(match[2]) + 1, size) if match[2] else size
    if start >= size or end <= start:
        raise Unsatisfiable
    return start, end


def _disposition(filename: str) -> str:
    """`attachment` with the name as ASCII (for old clients) and as UTF-8 (RFC 6266 / 8187)."""
    fallback = "".join(char if 32 <= ord(char) < 127 and char not in '"\\' else "_" for char in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
