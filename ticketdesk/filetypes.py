"""What an uploaded file is, decided from its bytes (never from the client's claim), against an allow-list.

Binary formats are recognised by their signatures (puremagic, a maintained pure-Python magic-number library),
HEIC by its ISO-BMFF brands (puremagic names the HEIF family inconsistently). Anything else is text only if all
of it is UTF-8 without control characters; then its name's extension says whether it is CSV or JSON, and
markup (HTML, XML, SVG: what a browser would run) is refused outright.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import puremagic

# Media type -> what the refusal message calls it, and the extensions a file of that type may keep.
KNOWN_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "image/png": ("PNG", (".png",)),
    "image/jpeg": ("JPEG", (".jpg", ".jpeg")),
    "image/gif": ("GIF", (".gif",)),
    "image/webp": ("WebP", (".webp",)),
    "image/heic": ("HEIC", (".heic", ".heif")),
    "application/pdf": ("PDF", (".pdf",)),
    "text/plain": ("plain text", (".txt", ".log", ".text")),
    "text/csv": ("CSV", (".csv",)),
    "application/json": ("JSON", (".json",)),
}
TEXT_TYPES = ("text/plain", "text/csv", "application/json")
HEAD = 4096  # bytes looked at to recognise a binary format
HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
# C0 controls other than tab, newline, form feed and carriage return, and DEL: not in text people write.
CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
MARKUP = re.compile(r"\s*<")


def describe(types: tuple[str, ...]) -> str:
    """The allow-list as a refusal message names it: "PNG, JPEG, ... or JSON"."""
    names = [KNOWN_TYPES[media][0] for media in types]
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)


@dataclass
class Sniffer:
    """Watches a file's bytes as they arrive; `refusal` is set as soon as they cannot be an allowed type."""

    allowed: tuple[str, ...]
    head: bytes = b""
    binary: str | None = None  # the recognised binary type, once the head is complete
    text: bool = True  # every byte so far is UTF-8 text
    refusal: str | None = None
    _decided: bool = False

    def __post_init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")("strict")

    def feed(self, data: bytes) -> None:
        """Look at the next bytes of the file."""
        if self.refusal is not None:
            return
        if len(self.head) < HEAD:
            self.head += data[: HEAD - len(self.head)]
        if self.text:
            try:
                self.text = not CONTROL.search(self._utf8.decode(data))
            except UnicodeDecodeError:
                self.text = False
        if not self._decided and len(self.head) >= HEAD:
            self._decide_binary()
        if self._decided and self.binary is None and not self.text:
            self.refusal = self._not_allowed()

    def finish(self, filename: str) -> str | None:
        """The file's media type once all of it was seen, or None with `refusal` set."""
        if self.refusal is None and self.text:
            try:
                self._utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                self.text = False
        if not self._decided:
            self._decide_binary()
        if self.refusal is None and self.binary is not None:
            return self.binary
        if self.refusal is None and self.text:
            return self._text_type(filename)
        self.refusal = self.refusal or self._not_allowed()
        return None

    def _decide_binary(self) -> None:
        self._decided = True
        found = _binary_type(self.head)
        if found is not None and found in self.allowed:
            self.binary = found
        elif found is not None:
            self.refusal = self._not_allowed(KNOWN_TYPES[found][0])

    def _text_type(self, filename: str) -> str | None:
        content = self.head.decode("utf-8", "replace").lstrip("\ufeff")
        if MARKUP.match(content):
            self.refusal = f"HTML, XML and SVG files are not accepted. {self._allowed_sentence()}"
            return None
        extension = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
        media = {"csv": "text/csv", "json": "application/json"}.get(extension, "text/plain")
        if media not in self.allowed:
            media = "text/plain"
        if media not in self.allowed:
            self.refusal = self._not_allowed("text")
            return None
        return media

    def _not_allowed(self, what: str | None = None) -> str:
        kind = f"This file is {what}" if what else "This file's type is not one ticketdesk accepts"
        return f"{kind}. {self._allowed_sentence()}"

    def _allowed_sentence(self) -> str:
        return f"Allowed: {describe(self.allowed)} (decided from the file's content, not its name)."


def _binary_type(head: bytes) -> str | None:
    """The known binary type whose signature `head` starts with."""
    if not head:
        return None
    if head[4:8] == b"ftyp":
        box = int.from_bytes(head[:4], "big")
        brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(box, len(head)) - 3, 4)}
        if brands & HEIC_BRANDS:
            return "image/heic"
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        return None
    for match in matches:
        if match.mime_type in KNOWN_TYPES and match.mime_type not in TEXT_TYPES:
            return str(match.mime_type)
    return None


def safe_extension(filename: str, media_type: str) -> str:
    """`filename` ending in an extension of `media_type`, so that a saved file opens as what it is."""
    extensions = KNOWN_TYPES[media_type][1]
    if filename.lower().endswith(extensions):
        return filename
    return filename + extensions[0]
