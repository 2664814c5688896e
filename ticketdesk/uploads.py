"""Receiving files over the GraphQL multipart request spec, streamed: nothing is held whole, and nothing is read
past the first reason to refuse.

The spec's request is a `multipart/form-data` body whose parts are `operations` (the GraphQL request as JSON,
with null where files go), `map` (which file part goes to which variable) and then the files. `receive` reads
it as it arrives:

- `operations` and `map` are JSON of at most `max_field_bytes` each, and must come before the files;
- then `admit` decides whether the files are worth reading at all (the view refuses anything but
  uploadAttachment, and skips reading for a caller the operation would refuse anyway);
- each file is written to a spool file as it arrives, hashed (SHA-256) and sniffed (ticketdesk.filetypes);
  the first byte over `max_bytes`, or the first bytes that cannot be an allowed type, end the reading there.

A file's `Upload` value is a `ReceivedFile`: the spooled file, or the reason it was refused (which
uploadAttachment answers as VALIDATION on `file`). The spool is removed when the request ends.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header

from ticketdesk.filetypes import Sniffer, safe_extension

NAME_MAX = 100
# Characters that are not allowed in file names on some system people download to, or that mislead.
UNSAFE_NAME = re.compile(r'[<>:"/\\|?*]')


class MalformedUpload(ValueError):
    """The body is not a GraphQL multipart request ticketdesk reads (HTTP 400 with this message)."""


@dataclass
class ReceivedFile:
    """One uploaded file: its spooled bytes, SHA-256, size and sniffed type; or why it was refused."""

    filename: str
    path: Path | None = None
    size: int = 0
    sha256: str = ""
    content_type: str | None = None
    refusal: str | None = None


@dataclass(frozen=True)
class UploadLimits:
    """What one upload request may send."""

    max_bytes: int  # per file
    allowed_types: tuple[str, ...]
    max_files: int
    max_field_bytes: int  # `operations` and `map` each


Admit = Callable[[dict[str, Any], dict[str, list[str]]], Awaitable[bool]]


def safe_filename(raw: str | None, media_type: str) -> str:
    """A base name safe to show and to save as: no folders, control or format characters (bidirectional
    overrides, zero-width), reserved punctuation or leading dots; at most 100 characters; ending in an
    extension of the type the content really is."""
    name = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(char for char in name if unicodedata.category(char)[0] not in "CZ" or char == " ")
    name = UNSAFE_NAME.sub("_", name).strip().lstrip(".").strip()
    if len(name) > NAME_MAX:
        stem, dot, extension = name.rpartition(".")
        keep = dot and 0 < len(extension) < 10
        name = stem[: NAME_MAX - len(extension) - 1] + "." + extension if keep else name[:NAME_MAX]
    return safe_extension(name or "attachment", media_type)


@dataclass
class _Part:
    name: str
    filename: str | None
    data: bytearray = field(default_factory=bytearray)


class _Reader:
    """The parser's callbacks record what they see; `receive` acts on it between chunks (it may await)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self._field = bytearray()
        self._value = bytearray()
        # Raw: browsers send a file's name as UTF-8 bytes in the header.
        self._headers: dict[str, bytes] = {}

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": lambda data, start, end: self.events.append(("data", bytes(data[start:end]))),
            "on_part_end": lambda: self.events.append(("end", None)),
        }

    def _part_begin(self) -> None:
        self._headers = {}

    def _header_end(self) -> None:
        self._headers[self._field.decode("latin-1").lower()] = bytes(self._value)
        self._field.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition", b""))
        if disposition != b"form-data" or b"name" not in options:
            raise MalformedUpload("Every part needs Content-Disposition: form-data with a name.")
        name = options[b"name"].decode("utf-8", "replace")
        filename = options[b"filename"].decode("utf-8", "replace") if b"filename" in options else None
        self.events.append(("begin", _Part(name, filename)))


async def receive(
    chunks: AsyncIterator[bytes], boundary: str, limits: UploadLimits, admit: Admit, spool: Path
) -> dict[str, Any]:
    """The GraphQL request of a multipart body, each file variable set to its `ReceivedFile`."""
    reader = _Reader()
    parser = MultipartParser(boundary, reader.callbacks())  # type: ignore[arg-type]  # plain callables
    receiving = _Receiving(limits, admit, spool)
    try:
        async for chunk in chunks:
            try:
                parser.write(chunk)
            except MalformedUpload:
                raise
            except Exception as exc:  # python-multipart's own parse errors
                raise MalformedUpload(f"The multipart body is malformed: {exc}") from None
            for kind, value in reader.events:
                await receiving.take(kind, value)
            reader.events.clear()
    except _Stop as stop:
        receiving.stopped = stop.reason
    finally:
        receiving.close()  # the client went away, the body is malformed, or reading stopped: no half file stays
    return receiving.request()


class _Stop(Exception):
    """Reading ends here; the files not received yet are refused with `reason`."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class _Receiving:
    """The state of one multipart body as its parts arrive."""

    def __init__(self, limits: UploadLimits, admit: Admit, spool: Path) -> None:
        self.limits = limits
        self.admit = admit
        self.spool = spool
        self.fields: dict[str, bytes] = {}
        self.files: dict[str, ReceivedFile] = {}
        self.files_map: dict[str, list[str]] | None = None
        self.admitted: bool | None = None
        self.part: _Part | None = None
        self.upload: _Upload | None = None
        self.stopped: str | None = None

    async def take(self, kind: str, value: Any) -> None:
        """Act on one parser event: a part begins, some of its data, its end."""
        if kind == "begin":
            await self._begin(value)
        elif kind == "data" and self.part is not None:
            self._data(self.part, value)
        elif kind == "end" and self.part is not None:
            self._end(self.part)
            if self.files_map is not None and self.admitted is None:
                # As soon as operations and map are in: the operation is judged before any file is read.
                self.admitted = await self.admit(_operations(self.fields), self.files_map)

    async def _begin(self, part: _Part) -> None:
        self.part = part
        if part.name in ("operations", "map"):
            if part.name in self.fields or self.files_map is not None:
                raise MalformedUpload("A multipart request sends the fields operations and map, once each, then files.")
            return
        if self.files_map is None or self.admitted is None:
            raise MalformedUpload("Send the operations and map fields before the files.")
        if part.name not in self.files_map or part.name in self.files:
            raise MalformedUpload(f"The file part {part.name!r} is not named (once) in map.")
        if not self.admitted:
            raise _Stop("Not read: the operation is refused.")
        self.upload = _Upload(part.filename or "", self.limits, self.spool)

    def _data(self, part: _Part, data: bytes) -> None:
        if self.upload is None:
            part.data.extend(data)
            if len(part.data) > self.limits.max_field_bytes:
                raise MalformedUpload(f"The {part.name} field is over {self.limits.max_field_bytes} bytes.")
        elif (refusal := self.upload.write(data)) is not None:
            self.files[part.name] = self.upload.refuse(refusal)
            self.upload = None
            raise _Stop("Not read: an earlier file of this request was refused.")

    def _end(self, part: _Part) -> None:
        if self.upload is None:
            self.fields[part.name] = bytes(part.data)
            if part.name == "map":
                self.files_map = _files_map(part.data, self.limits.max_files)
        else:
            self.files[part.name] = self.upload.finish()
        self.part, self.upload = None, None

    def close(self) -> None:
        """Drop the file being received, if reading ended in its middle."""
        if self.upload is not None:
            self.upload.discard()
            self.upload = None

    def request(self) -> dict[str, Any]:
        """The GraphQL request, its file variables set; files never received refused with why."""
        operations = _operations(self.fields)
        if self.files_map is None:
            raise MalformedUpload("The map field is missing: send operations, then map, then the files.")
        for name in self.files_map or {}:
            if name not in self.files:
                if self.stopped is None:
                    raise MalformedUpload(f"The file {name!r} named in map is missing from the body.")
                self.files[name] = ReceivedFile(filename="", refusal=self.stopped)
        return _placed(operations, self.files_map or {}, self.files)


class _Upload:
    """One file part being received into the spool."""

    def __init__(self, filename: str, limits: UploadLimits, spool: Path) -> None:
        self.filename = filename
        self.limits = limits
        self.sniffer = Sniffer(limits.allowed_types)
        self.hash = hashlib.sha256()
        self.size = 0
        handle, name = tempfile.mkstemp(dir=spool, prefix="upload-")
        self.path = Path(name)
        self.file = open(handle, "wb")  # closed in finish/discard

    def write(self, data: bytes) -> str | None:
        """Take the next bytes; the reason to refuse the file, as soon as there is one."""
        self.size += len(data)
        if self.size > self.limits.max_bytes:
            return f"The file is larger than the limit of {_size(self.limits.max_bytes)}; send a smaller file."
        self.sniffer.feed(data)
        if self.sniffer.refusal is not None:
            return self.sniffer.refusal
        self.hash.update(data)
        self.file.write(data)
        return None

    def finish(self) -> ReceivedFile:
        self.file.close()
        if self.size == 0:
            return self.refuse("The file is empty.")
        media = self.sniffer.finish(self.filename)
        if media is None:
            return self.refuse(self.sniffer.refusal or "The file's type is not accepted.")
        return ReceivedFile(
            filename=safe_filename(self.filename, media),
            path=self.path,
            size=self.size,
            sha256=self.hash.hexdigest(),
            content_type=media,
        )

    def refuse(self, reason: str) -> ReceivedFile:
        self.discard()
        return ReceivedFile(filename="", refusal=reason)

    def discard(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


def _size(count: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count} bytes"


def _operations(fields: dict[str, bytes]) -> dict[str, Any]:
    if "operations" not in fields:
        raise MalformedUpload("The operations field is missing: send it first, then map, then the files.")
    try:
        operations = json.loads(fields["operations"])
    except (RecursionError, ValueError):
        raise MalformedUpload("The operations field is not JSON.") from None
    if not isinstance(operations, dict):
        raise MalformedUpload("The operations field must be one GraphQL request (a JSON object), not a batch.")
    return operations


def _files_map(data: bytes | bytearray, max_files: int) -> dict[str, list[str]]:
    try:
        files_map = json.loads(data)
    except (RecursionError, ValueError):
        raise MalformedUpload("The map field is not JSON.") from None
    if not isinstance(files_map, dict) or not all(
        isinstance(paths, list) and paths and all(isinstance(path, str) for path in paths)
        for paths in files_map.values()
    ):
        raise MalformedUpload('The map field must be an object of lists of paths, e.g. {"0": ["variables.file"]}.')
    if len(files_map) > max_files:
        raise MalformedUpload(f"At most {max_files} files may be sent in one request.")
    return files_map


def _placed(
    operations: dict[str, Any], files_map: dict[str, list[str]], files: dict[str, ReceivedFile]
) -> dict[str, Any]:
    """`operations` with each mapped path (e.g. `variables.file`) set to its file; only variables take files."""
    for name, paths in files_map.items():
        for path in paths:
            keys = path.split(".")
            if len(keys) < 2 or keys[0] != "variables":
                raise MalformedUpload(f"The map path {path!r} must point into variables, e.g. variables.file.")
            target: Any = operations
            try:
                for key in keys[:-1]:
                    target = target[int(key)] if isinstance(target, list) else target[key]
                last = keys[-1]
                if isinstance(target, list):
                    target[int(last)] = files[name]
                elif isinstance(target, dict) and last in target:
                    target[last] = files[name]
                else:
                    raise KeyError(last)
            except (KeyError, IndexError, ValueError, TypeError):
                raise MalformedUpload(f"The map path {path!r} names no null placeholder in operations.") from None
    return operations
