"""Uploading files as clients do: a browser-style multipart request (what FormData sends)."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Caller

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"

UPLOAD = """
mutation Upload($file: Upload!, $ticketId: ID, $internal: Boolean) {
  uploadAttachment(file: $file, ticketId: $ticketId, internal: $internal) {
    attachment { id ticketId messageId kind url filename contentType size sha256 internal createdAt }
    ticket { id updatedAt }
    errors { code message field }
  }
}
"""


async def upload(
    caller: Caller,
    content: bytes,
    filename: str = "error_log.txt",
    *,
    ticket_id: str | None = None,
    internal: bool | None = None,
    claimed_type: str = "application/octet-stream",
) -> dict[str, Any]:
    """uploadAttachment as a browser's FormData sends it; the payload (asserting no GraphQL errors)."""
    body = await upload_response(
        caller, content, filename, ticket_id=ticket_id, internal=internal, claimed_type=claimed_type
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["uploadAttachment"]
    return payload


async def upload_response(
    caller: Caller,
    content: bytes,
    filename: str = "error_log.txt",
    *,
    ticket_id: str | None = None,
    internal: bool | None = None,
    claimed_type: str = "application/octet-stream",
    status: int = 200,
) -> dict[str, Any]:
    """The whole response body of an upload, whose HTTP status must be `status`."""
    variables: dict[str, Any] = {"file": None, "ticketId": ticket_id, "internal": internal}
    operations = json.dumps({"query": UPLOAD, "variables": variables})
    headers = {"Authorization": f"Bearer {caller.token}"} if caller.token else {}
    response = await caller.http.post(
        "/graphql",
        data={"operations": operations, "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, content, claimed_type)},
        headers=headers,
    )
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body
