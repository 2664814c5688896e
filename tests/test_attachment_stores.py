"""Attachment content stores, each through the public surface: the database, a folder (file://) and S3 (moto).

Each store is proven the same way: a customer's upload, attached by createTicket, downloads whole and by range
through its signed `url`; the same bytes uploaded twice are stored once (counted in the backend itself); and the
sweep removes expired pending uploads, content nothing names, and bytes that have no `FileContent` row, while
content an attached file names stays.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Caller, Clients, S3Server, make_settings, running_app
from tests.operations import ticket_input
from tests.uploads import upload
from ticketdesk.models import Attachment, ContentChunk, FileContent
from ticketdesk.models.blobs import CHUNK, ContentStore, open_content_store
from ticketdesk.models.enums import Role
from ticketdesk.models.files import Swept, sweep

# Text (the sniffer accepts it as text/plain) longer than one database chunk, so reads cross a chunk boundary.
CONTENT = b"".join(b"line %06d: transfer failed with code 500\n" % n for n in range(CHUNK // 40 + 200))
OTHER = b"a pending upload nobody attaches\n" * 100

CREATE_WITH_FILES = """
mutation Create($input: CreateTicketInput!) {
  createTicket(input: $input) {
    ticket { id attachments { id kind url size sha256 } }
    errors { code message field }
  }
}"""


@dataclass
class Backend:
    """One content store under test: its TICKETDESK_ATTACHMENT_STORE and how to see what it holds."""

    kind: str
    url: str
    folder: Path | None = None
    s3: S3Server | None = None
    prefix: str = ""

    async def names(self) -> list[str]:
        """The SHA-256 names of the content the backend holds, once per stored copy."""
        if self.kind == "database":
            rows = await ContentChunk.filter(position=0).values_list("sha256", flat=True)
            return sorted(str(row) for row in rows)
        if self.folder is not None:
            return sorted(path.name for path in self.folder.rglob("*") if path.is_file())
        assert self.s3 is not None
        return sorted(key.rsplit("/", 1)[-1] for key in self.s3.keys(self.prefix))

    def put_foreign(self, key: str, content: bytes) -> None:
        """An object the app did not store (an object store's folder or bucket may hold others' files)."""
        if self.folder is not None:
            path = self.folder / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            return
        assert self.s3 is not None
        self.s3.put(f"{self.prefix}/{key}", content)


@pytest.fixture(params=["database", "file", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each store in turn; S3 under a prefix of its own in moto's bucket."""
    if request.param == "database":
        return Backend("database", "database")
    if request.param == "file":
        folder = tmp_path / "files"
        return Backend("file", f"file://{folder}", folder=folder)
    s3: S3Server = request.getfixturevalue("s3")
    prefix = f"attachments-{uuid.uuid4().hex}"
    return Backend("s3", f"s3://{s3.bucket}/{prefix}", s3=s3, prefix=prefix)


@pytest.fixture
async def clients(backend: Backend, database_url: str) -> AsyncIterator[Clients]:
    """The app storing attachments in `backend` (its own periodic sweep kept out of the way)."""
    settings = make_settings(database_url, attachment_store=backend.url, attachment_sweep_seconds=86400)
    async with running_app(settings) as running:
        yield running


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


async def pending_upload(caller: Caller, content: bytes, filename: str = "error_log.txt") -> str:
    """Upload `content` without a ticket; the pending attachment's id."""
    payload = await upload(caller, content, filename)
    assert payload["errors"] == [], payload
    attachment: dict[str, Any] = payload["attachment"]
    assert attachment["sha256"] == sha256(content) and attachment["size"] == len(content)
    return str(attachment["id"])


async def create_ticket(caller: Caller, attachment_ids: list[str]) -> dict[str, Any]:
    """createTicket attaching the caller's pending uploads; the ticket with its attachments."""
    data = await caller.data(CREATE_WITH_FILES, {"input": ticket_input(attachmentIds=attachment_ids)})
    payload: dict[str, Any] = data["createTicket"]
    assert payload["errors"] == [], payload
    ticket: dict[str, Any] = payload["ticket"]
    return ticket


async def download(caller: Caller, url: str, byte_range: str | None = None) -> tuple[int, bytes, dict[str, str]]:
    """GET a download link (with a Range header when given): status, body, headers."""
    headers = {"Range": byte_range} if byte_range else {}
    response = await caller.http.get(url, headers=headers)
    return response.status_code, response.content, dict(response.headers)


async def test_uploaded_file_downloads_whole_and_by_range_and_same_bytes_are_stored_once(
    backend: Backend, clients: Clients
) -> None:
    """Upload -> createTicket(attachmentIds) -> download through `url` works in every store: the whole body,
    `bytes=3-9` as 206 with its Content-Range, a range across the database's chunk boundary; a second upload of
    the same bytes makes a second attachment but not a second copy (one FileContent row, one stored content)."""
    customer = clients.as_role(Role.CUSTOMER, name="Ann Customer")
    first = await pending_upload(customer, CONTENT)
    second = await pending_upload(customer, CONTENT, "same_again.log")
    ticket = await create_ticket(customer, [first, second])

    attachments = ticket["attachments"]
    assert sorted(item["id"] for item in attachments) == sorted([first, second])
    assert all(item["kind"] == "FILE" and item["sha256"] == sha256(CONTENT) for item in attachments)
    url = attachments[0]["url"]

    status, body, _ = await download(customer, url)
    assert (status, body) == (200, CONTENT)
    status, body, headers = await download(customer, url, "bytes=3-9")
    assert (status, body) == (206, CONTENT[3:10])
    assert headers["content-range"] == f"bytes 3-9/{len(CONTENT)}"
    status, body, headers = await download(customer, url, f"bytes={CHUNK - 5}-{CHUNK + 4}")
    assert (status, body) == (206, CONTENT[CHUNK - 5 : CHUNK + 5])
    assert headers["content-range"] == f"bytes {CHUNK - 5}-{CHUNK + 4}/{len(CONTENT)}"

    assert await backend.names() == [sha256(CONTENT)]
    assert await FileContent.all().count() == 1
    if backend.kind == "database":
        assert await ContentChunk.filter(sha256=sha256(CONTENT)).count() == -(-len(CONTENT) // CHUNK)


async def put_leftover(store: ContentStore, folder: Path, content: bytes) -> str:
    """Bytes in the store with no FileContent row, as a crash between storing and committing leaves them."""
    name = sha256(content)
    source = folder / "leftover"
    source.write_bytes(content)
    await store.put(name, source)
    return name


def later(hours: float) -> dt.datetime:
    """A moment `hours` from now (negative: ago), as the sweep's cutoffs take it."""
    return dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)


async def test_sweep_removes_expired_uploads_unnamed_content_and_leftovers_but_keeps_attached_files(
    backend: Backend, clients: Clients, tmp_path: Path
) -> None:
    """The sweep against each store: nothing is removed within the grace periods; an expired pending upload loses
    its row at once but its bytes only once they are also untouched; content an attached file names stays (even
    when an expired pending upload named the same bytes) and still downloads; bytes without a FileContent row
    go."""
    customer = clients.as_role(Role.CUSTOMER, name="Ann Customer")
    attached = await pending_upload(customer, CONTENT)
    ticket = await create_ticket(customer, [attached])
    abandoned = await pending_upload(customer, OTHER)
    duplicate = await pending_upload(customer, CONTENT, "again.log")
    store = open_content_store(backend.url)
    leftover = await put_leftover(store, tmp_path, b"bytes whose FileContent row never committed\n")
    everything = sorted([sha256(CONTENT), sha256(OTHER), leftover])
    assert await backend.names() == everything

    # Within every grace period: nothing goes.
    assert await sweep(store, pending_before=later(-1), untouched_before=later(-1)) == Swept(0, 0, 0)
    assert await backend.names() == everything

    # Pending uploads expired, content recently touched: the rows go, all bytes stay.
    assert await sweep(store, pending_before=later(1), untouched_before=later(-1)) == Swept(2, 0, 0)
    assert not await Attachment.filter(id__in=[abandoned, duplicate]).exists()
    assert await backend.names() == everything

    # Untouched too: the unnamed content and the leftover go; the attached file's content stays.
    assert await sweep(store, pending_before=later(1), untouched_before=later(1)) == Swept(0, 1, 1)
    assert await backend.names() == [sha256(CONTENT)]
    assert [str(name) for name in await FileContent.all().values_list("sha256", flat=True)] == [sha256(CONTENT)]
    assert await Attachment.filter(id=attached).exists()
    status, body, _ = await download(customer, ticket["attachments"][0]["url"])
    assert (status, body) == (200, CONTENT)


@pytest.mark.parametrize("backend", ["file", "s3"], indirect=True)
async def test_sweep_leaves_objects_that_are_not_content_alone(backend: Backend, clients: Clients) -> None:
    """Other files in the folder or bucket prefix are neither counted nor deleted as leftovers, even one whose
    key happens to be `<first two letters>/<name>` (the sweep used to take any object's last path segment for a
    content name, and deleting that name's key removed `re/readme.txt`)."""
    foreign = ["README.txt", "re/readme.txt", "ab/ab-not-a-sha256"]
    for key in foreign:
        backend.put_foreign(key, b"someone else's file\n")
    store = open_content_store(backend.url)
    assert await sweep(store, pending_before=later(1), untouched_before=later(1)) == Swept(0, 0, 0)
    assert await backend.names() == sorted(key.rsplit("/", 1)[-1] for key in foreign)
