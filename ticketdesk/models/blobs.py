"""Content stores: where the bytes of uploaded files live, behind one interface, each content named by SHA-256.

- `database` (the default): in the store itself, as `ContentChunk` rows of 256 KiB, so every process on one
  PostgreSQL shares the files with nothing else to run or back up (Zammad's default too).
- `file:///path` and `s3://bucket/prefix` (any S3-compatible service): through obstore, one maintained
  object-store library for local folders and S3 alike. S3 credentials, region and endpoint come from the
  standard `AWS_*` environment variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, ...);
  `AWS_ALLOW_HTTP=true` permits a plain-http endpoint.

Writes are idempotent (a name always holds the same bytes); reads stream a byte range in chunks.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import obstore
from obstore.store import LocalStore, from_url
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from ticketdesk.models.attachments import ContentChunk

CHUNK = 256 * 1024
LIST_BATCH = 1000
SHA256_NAME = re.compile(r"[0-9a-f]{64}")


class ContentStore(Protocol):
    """Where content is kept, by the hex SHA-256 of its bytes."""

    async def put(self, sha256: str, source: Path) -> None:
        """Store the bytes of `source` (whose SHA-256 is `sha256`) unless they are stored already."""

    def read(self, sha256: str, start: int, end: int) -> AsyncIterator[bytes]:
        """The bytes from `start` up to (not including) `end`, in chunks; `start < end <= size`."""

    async def delete(self, sha256: str) -> None:
        """Remove the content (nothing happens if it is not there)."""

    def stored_before(self, cutoff: dt.datetime) -> AsyncIterator[list[str]]:
        """The names of content last written before `cutoff`, in batches (for the sweep)."""


def open_content_store(url: str) -> ContentStore:
    """The store `TICKETDESK_ATTACHMENT_STORE` names: `database`, `file:///path` or `s3://bucket/prefix`."""
    if url == "database":
        return DatabaseStore()
    if url.startswith("file://"):
        return ObjectStore(LocalStore(Path(url.removeprefix("file://")), mkdir=True))
    if url.startswith("s3://"):
        return ObjectStore(from_url(url))
    raise ValueError(f"unknown attachment store {url!r}: use database, file:///path or s3://bucket/prefix")


class DatabaseStore:
    """Content as rows of the store: each content's chunks, written in one transaction (all or nothing)."""

    async def put(self, sha256: str, source: Path) -> None:
        if await ContentChunk.exists(sha256=sha256, position=0):
            return
        try:
            async with in_transaction():
                with source.open("rb") as file:
                    position = 0
                    while data := file.read(CHUNK):
                        await ContentChunk.create(sha256=sha256, position=position, data=data)
                        position += 1
                    if position == 0:  # empty content still needs a row to exist
                        await ContentChunk.create(sha256=sha256, position=0, data=b"")
        except IntegrityError:
            pass  # a concurrent upload of the same bytes stored them first

    async def read(self, sha256: str, start: int, end: int) -> AsyncIterator[bytes]:
        for position in range(start // CHUNK, (end - 1) // CHUNK + 1):
            chunk = await ContentChunk.filter(sha256=sha256, position=position).values_list("data", flat=True)
            if not chunk:
                raise FileNotFoundError(f"content {sha256} chunk {position} is missing")
            data = bytes(chunk[0])
            offset = position * CHUNK
            yield data[max(start - offset, 0) : end - offset]

    async def delete(self, sha256: str) -> None:
        await ContentChunk.filter(sha256=sha256).delete()

    async def stored_before(self, cutoff: dt.datetime) -> AsyncIterator[list[str]]:
        names = await ContentChunk.filter(position=0, created_at__lt=cutoff).values_list("sha256", flat=True)
        for start in range(0, len(names), LIST_BATCH):
            yield [str(name) for name in names[start : start + LIST_BATCH]]


class ObjectStore:
    """Content as objects named `<first two hex digits>/<sha256>` in an obstore store (a folder, or S3)."""

    def __init__(self, store: obstore.store.ObjectStore) -> None:
        self.store = store

    @staticmethod
    def _key(sha256: str) -> str:
        return f"{sha256[:2]}/{sha256}"

    async def put(self, sha256: str, source: Path) -> None:
        # Written again even when present: a put replaces the object whole, so this is safe, and the fresh
        # modification time keeps the sweep off content an upload is about to name.
        await obstore.put_async(self.store, self._key(sha256), source)

    async def read(self, sha256: str, start: int, end: int) -> AsyncIterator[bytes]:
        result = await obstore.get_async(self.store, self._key(sha256), options={"range": (start, end)})
        async for data in result.stream(min_chunk_size=CHUNK):
            yield bytes(data)

    async def delete(self, sha256: str) -> None:
        try:
            await obstore.delete_async(self.store, self._key(sha256))
        except FileNotFoundError:
            pass

    @classmethod
    def _name(cls, path: str) -> str | None:
        """The content an object holds when it is laid out as content (`ab/ab…`, 64 hex digits); None for
        anything else kept in the same folder or bucket, which is not the sweep's to count or delete."""
        name = path.rsplit("/", 1)[-1]
        return name if SHA256_NAME.fullmatch(name) and path == cls._key(name) else None

    async def stored_before(self, cutoff: dt.datetime) -> AsyncIterator[list[str]]:
        async for batch in obstore.list(self.store, chunk_size=LIST_BATCH):
            names = [name for meta in batch if meta["last_modified"] < cutoff and (name := self._name(meta["path"]))]
            if names:
                yield names
