"""ASGI middleware around the app: what every HTTP request passes before any of ticketdesk's code reads it."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """The request body passed the limit while it was being read."""


class BodyLimit:
    """Answers 413 to a request body over `max_bytes`, declared or streamed, without holding more of it.

    A multipart body (an upload) may stream up to `multipart_max_bytes`; its declared length is not refused up
    front, so that a file over the attachment limit gets uploadAttachment's own VALIDATION answer, sent as soon
    as the file passes that limit (ticketdesk.uploads stops reading there).
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, multipart_max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.multipart_max_bytes = multipart_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        limit = self.multipart_max_bytes if multipart else self.max_bytes
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _refuse(send, 400, "The Content-Length header must be a whole number of bytes.")
                return
            if int(declared) > limit and not multipart:
                await self._too_large(send)
                return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                raise
            await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        await _refuse(send, 413, f"The request body is larger than {self.max_bytes} bytes (TICKETDESK_MAX_BODY_BYTES).")


async def _refuse(send: Send, status: int, message: str) -> None:
    """A whole response, GraphQL-shaped: `{"errors": [{"message": ...}]}`."""
    body = json.dumps({"errors": [{"message": message}]}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
