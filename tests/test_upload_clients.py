"""Uploads as real clients send them, against real servers: a 2 GiB body cut off at the limit (the server's
memory measured), gql's HTTPX and aiohttp transports, and two processes sharing PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from gql import Client, FileVar, gql
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.httpx import HTTPXAsyncTransport

from tests.conftest import Clients, make_settings, served_app
from tests.operations import ticket_input
from tests.servers import ServerProcess, running_server
from tests.uploads import PNG, UPLOAD
from ticketdesk.auth import mint_token
from ticketdesk.models.enums import Role

MiB = 1024 * 1024
GiB = 1024 * MiB
LIMIT = 10 * MiB  # TICKETDESK_ATTACHMENT_MAX_BYTES's default
BOUNDARY = "----ticketdeskUploadBoundary7MA4YWxkTrZu0gW"

CREATE_WITH_ATTACHMENTS = """
mutation Create($input: CreateTicketInput!) {
  createTicket(input: $input) {
    ticket { id attachments { id url filename contentType size sha256 } }
    errors { code message field }
  }
}
"""


def _content(size: int = 300_000) -> bytes:
    """A PNG-signed file of `size` bytes whose bytes differ along its length (so a mix-up would show)."""
    body = bytes((i * 7 + i // 251) % 256 for i in range(size - len(PNG)))
    return PNG + body


# --- 1. a 2 GiB body, refused at the limit ------------------------------------------------------------------


def _rss_bytes(pid: int) -> int:
    """The resident set size of process `pid` (VmRSS in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


async def _healthz(server: ServerProcess) -> httpx.Response:
    """The server's /healthz answer."""
    async with httpx.AsyncClient() as http:
        return await http.get(f"{server.url}/healthz", timeout=10)


def _multipart_head(token: str) -> tuple[bytes, bytes]:
    """The `operations` and `map` parts plus the file part's headers, and the closing boundary."""
    operations = json.dumps({"query": UPLOAD, "variables": {"file": None, "ticketId": None, "internal": None}})
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="operations"\r\n\r\n'
        f"{operations}\r\n"
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="map"\r\n\r\n'
        '{"0": ["variables.file"]}\r\n'
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="0"; filename="huge.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return head, tail


def _file_chunks(size: int, chunk: int = MiB) -> Iterator[bytes]:
    """`size` bytes of a PNG signature followed by zeros, in `chunk`-sized pieces: never held whole."""
    zeros = bytes(chunk)
    first = min(chunk, size)
    yield PNG + zeros[: first - len(PNG)]
    left = size - first
    while left > 0:
        yield zeros[: min(chunk, left)]
        left -= chunk


@dataclass
class StreamedUpload:
    """What a client streaming a huge upload saw: the answer, and how much it had sent at the answer and in all."""

    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    sent_at_answer: int
    sent_in_all: int
    send_error: str | None


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length body."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers["content-length"]))
    return int(status_line.split()[1]), headers, body


async def _stream_huge_upload(url: str, token: str, file_size: int) -> StreamedUpload:
    """POST an upload whose Content-Length declares `file_size` bytes of file, sending it 1 MiB at a time while
    reading the response; after the answer, keep sending until the server closes (or all was sent)."""
    head, tail = _multipart_head(token)
    address = urlsplit(url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    request_head = (
        "POST /graphql HTTP/1.1\r\n"
        f"Host: {address.netloc}\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(head) + file_size + len(tail)}\r\n\r\n"
    ).encode()
    sent = 0
    sent_at_answer: int | None = None
    send_error: str | None = None

    async def send() -> None:
        nonlocal sent, send_error
        try:
            writer.write(request_head + head)
            await writer.drain()
            for chunk in _file_chunks(file_size):
                writer.write(chunk)
                await writer.drain()
                sent += len(chunk)
            writer.write(tail)
            await writer.drain()
        except OSError as exc:  # the server closed: expected once it has answered
            send_error = repr(exc)

    sender = asyncio.create_task(send())
    try:
        async with asyncio.timeout(300):
            status, headers, body = await _read_response(reader)
            sent_at_answer = sent
            await sender
    finally:
        sender.cancel()
        writer.close()
    return StreamedUpload(status, headers, json.loads(body), sent_at_answer, sent, send_error)


async def test_a_2_gib_upload_is_cut_off_at_the_limit_without_the_server_holding_it(tmp_path: Path) -> None:
    """A client streaming 2 GiB gets the VALIDATION refusal after about the limit, not after 2 GiB; the server
    closes the connection instead of swallowing the rest; its memory barely moves, nothing stays in the spool,
    and it goes on answering."""
    spool = tmp_path / "spool"
    spool.mkdir()
    env = {
        "TICKETDESK_DATABASE_URL": f"sqlite://{tmp_path / 'db.sqlite'}",
        "TICKETDESK_ENV": "development",
        "TICKETDESK_ATTACHMENT_SPOOL_DIR": str(spool),
    }
    token = mint_token(make_settings(env["TICKETDESK_DATABASE_URL"]), Role.CUSTOMER, uuid.uuid4())
    with running_server(env) as server:
        pid = server.process.pid
        # A small upload first, so the code paths an upload uses are loaded before the baseline.
        warm = await _stream_huge_upload(server.url, token, 64 * 1024)
        assert warm.status == 200 and warm.body["data"]["uploadAttachment"]["errors"] == [], warm
        before = _rss_bytes(pid)
        result = await _stream_huge_upload(server.url, token, 2 * GiB)
        after = _rss_bytes(pid)
        health = await _healthz(server)
    print(
        f"\n2 GiB upload: answered after {result.sent_at_answer / MiB:.1f} MiB sent, "
        f"{result.sent_in_all / MiB:.1f} MiB sent in all ({result.send_error}); "
        f"server RSS {before / MiB:.1f} MiB -> {after / MiB:.1f} MiB ({(after - before) / MiB:+.1f} MiB)"
    )
    assert result.status == 200, result
    payload = result.body["data"]["uploadAttachment"]
    assert payload["attachment"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("VALIDATION", ["file"])]
    assert "limit of 10 MiB" in payload["errors"][0]["message"]
    assert result.sent_at_answer < 100 * MiB
    assert result.sent_in_all < 100 * MiB, "the server read on after answering"
    assert result.send_error is not None
    assert after - before < 64 * MiB
    assert list(spool.iterdir()) == []
    assert health.status_code == 200


async def _abandon_upload(url: str, token: str, declared: int, sent: int) -> None:
    """Start an upload declaring `declared` bytes of file, send `sent` of them, and hang up."""
    head, tail = _multipart_head(token)
    address = urlsplit(url)
    _, writer = await asyncio.open_connection(address.hostname, address.port)
    writer.write(
        (
            "POST /graphql HTTP/1.1\r\n"
            f"Host: {address.netloc}\r\n"
            f"Authorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(head) + declared + len(tail)}\r\n\r\n"
        ).encode()
        + head
    )
    for chunk in _file_chunks(sent):
        writer.write(chunk)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def test_an_upload_abandoned_half_way_is_no_server_error(tmp_path: Path) -> None:
    """A client that hangs up in the middle of its file (a phone losing signal) leaves no spooled file and no
    "Exception in ASGI application" in the server's log, and the server goes on answering."""
    spool = tmp_path / "spool"
    spool.mkdir()
    log = tmp_path / "server.log"
    env = {
        "TICKETDESK_DATABASE_URL": f"sqlite://{tmp_path / 'db.sqlite'}",
        "TICKETDESK_ENV": "development",
        "TICKETDESK_ATTACHMENT_SPOOL_DIR": str(spool),
    }
    token = mint_token(make_settings(env["TICKETDESK_DATABASE_URL"]), Role.CUSTOMER, uuid.uuid4())
    with running_server(env, log=log) as server:
        await _abandon_upload(server.url, token, declared=5 * MiB, sent=2 * MiB)
        for _ in range(300):  # generous: the server notices the hang-up and removes the spool
            if not list(spool.iterdir()):
                break
            await asyncio.sleep(0.05)
        health = await _healthz(server)
    # Read after the server stopped: whatever it would log about the hang-up is written by then.
    assert list(spool.iterdir()) == []
    assert health.status_code == 200
    assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")


# --- 2. gql's transports ----------------------------------------------------------------------------------


async def _upload_with_gql(client: Client, path: Path) -> dict[str, Any]:
    """uploadAttachment through a gql client (GraphQL multipart request spec); its attachment."""
    request = gql(UPLOAD)
    request.variable_values = {"file": FileVar(str(path), filename=path.name, content_type="image/png")}
    async with client as session:
        result = await session.execute(request, upload_files=True)
    payload = result["uploadAttachment"]
    assert payload["errors"] == [], payload
    attachment: dict[str, Any] = payload["attachment"]
    return attachment


async def _attach_and_download(clients: Clients, token: str, attachment: dict[str, Any]) -> bytes:
    """createTicket naming the upload, then the file's bytes through the ticket's attachment url."""
    response = await clients.http.post(
        "/graphql",
        json={"query": CREATE_WITH_ATTACHMENTS, "variables": {"input": ticket_input(attachmentIds=[attachment["id"]])}},
        headers={"Authorization": f"Bearer {token}"},
    )
    payload = response.json()["data"]["createTicket"]
    assert payload["errors"] == [], payload
    [attached] = payload["ticket"]["attachments"]
    assert attached["id"] == attachment["id"]
    async with httpx.AsyncClient() as http:  # the link needs no token
        download = await http.get(attached["url"])
    assert download.status_code == 200, download.text
    assert download.headers["content-type"].startswith("image/png")
    return download.content


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Clients]:
    """The app under a real uvicorn in this event loop (SQLite file)."""
    async with served_app(make_settings(f"sqlite://{tmp_path / 'db.sqlite'}")) as clients:
        yield clients


@pytest.mark.parametrize("transport_name", ["httpx", "aiohttp"])
async def test_gql_transports_upload_a_file_that_downloads_byte_for_byte(
    live: Clients, tmp_path: Path, transport_name: str
) -> None:
    """gql 4's HTTPX and aiohttp transports (upload_files=True, FileVar) produce requests the server reads; the
    attached file downloads through its url with the very bytes sent."""
    content = _content()
    path = tmp_path / "screenshot.png"
    path.write_bytes(content)
    token = mint_token(live.settings, Role.CUSTOMER, uuid.uuid4(), name="Ann")
    url = str(live.http.base_url.join("/graphql"))
    headers = {"Authorization": f"Bearer {token}"}
    transport = (
        HTTPXAsyncTransport(url=url, headers=headers)
        if transport_name == "httpx"
        else AIOHTTPTransport(url=url, headers=headers)
    )
    attachment = await _upload_with_gql(Client(transport=transport), path)
    assert (attachment["size"], attachment["contentType"], attachment["filename"]) == (
        len(content),
        "image/png",
        "screenshot.png",
    )
    assert await _attach_and_download(live, token, attachment) == content


# --- 3. two processes on PostgreSQL -----------------------------------------------------------------------


@pytest.fixture
def two_servers(postgres_url: str, redis_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two server processes sharing PostgreSQL (the default `database` attachment store), Redis and the secret."""
    env = {
        "TICKETDESK_DATABASE_URL": postgres_url,
        "TICKETDESK_BROADCAST_URL": redis_url,
        "TICKETDESK_JWT_SECRET": "two-processes-one-deployment-secret-0123456789",
        "TICKETDESK_ENV": "development",
    }
    with running_server(env) as first, running_server({**env, "TICKETDESK_MIGRATE_ON_START": "false"}) as second:
        yield first, second


def _altered(link: str) -> str:
    """`link` with one character of its signature changed."""
    head, signature = link.rsplit("signature=", 1)
    first = "B" if signature[0] != "B" else "C"
    return f"{head}signature={first}{signature[1:]}"


def _on(server: ServerProcess, link: str) -> str:
    """`link` (made by whichever process) pointed at `server`."""
    parts = urlsplit(link)
    return f"{server.url}{parts.path}?{parts.query}"


@pytest.mark.postgres
async def test_a_file_uploaded_on_one_process_downloads_from_the_other(
    two_servers: tuple[ServerProcess, ServerProcess], tmp_path: Path
) -> None:
    """Content stored in PostgreSQL by process A is served by process B through A's link (the link key is
    derived from the shared secret); the same link with one signature character changed is refused on B."""
    first, second = two_servers
    settings = make_settings("sqlite://unused", jwt_secret="two-processes-one-deployment-secret-0123456789")
    token = mint_token(settings, Role.CUSTOMER, uuid.uuid4(), name="Ann")
    content = _content(1_500_000)
    path = tmp_path / "statement.png"
    path.write_bytes(content)
    transport = HTTPXAsyncTransport(url=f"{first.url}/graphql", headers={"Authorization": f"Bearer {token}"})
    attachment = await _upload_with_gql(Client(transport=transport), path)
    async with httpx.AsyncClient(base_url=first.url) as http:
        response = await http.post(
            "/graphql",
            json={
                "query": CREATE_WITH_ATTACHMENTS,
                "variables": {"input": ticket_input(attachmentIds=[attachment["id"]])},
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    payload = response.json()["data"]["createTicket"]
    assert payload["errors"] == [], payload
    [attached] = payload["ticket"]["attachments"]
    link = attached["url"]
    assert link.startswith(first.url)
    async with httpx.AsyncClient() as http:
        on_second = await http.get(_on(second, link))
        altered = await http.get(_on(second, _altered(link)))
    assert on_second.status_code == 200, on_second.text
    assert on_second.content == content
    assert altered.status_code == 403
    assert altered.content != content
