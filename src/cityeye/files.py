"""Attachments (photos of a handled case): checked, content-addressed, kept on disk.

A handler's phone uploads a photo; the case's timeline keeps only its reference. The
store refuses what is not the image it claims to be (the first bytes must match the
declared type: a script renamed ``.jpg`` is not a photo), anything empty or over the
size limit, and references that could escape the folder. Files are named by their
SHA-256, so the same photo sent twice (a retry on a bad network) is stored once.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from cityeye.domain import FieldError

MAX_BYTES = 10 * 1024 * 1024
#: Declared content type → (file extension, accepted leading bytes).
TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "image/jpeg": ("jpg", (b"\xff\xd8\xff",)),
    "image/png": ("png", (b"\x89PNG\r\n\x1a\n",)),
    "image/webp": ("webp", (b"RIFF",)),
}
_REF = re.compile(r"^sha256-[0-9a-f]{64}\.(jpg|png|webp)$")


class AttachmentStore:
    """Photos under ``root``; references look like ``sha256-<hex>.jpg``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, data: bytes, content_type: str) -> str:
        """Check and store; returns the reference. Raises :class:`FieldError`."""
        kind = content_type.split(";")[0].strip().lower()
        if kind not in TYPES:
            allowed = ", ".join(TYPES)
            raise FieldError("photo", f"content type {content_type!r} is not one of {allowed}")
        if not data:
            raise FieldError("photo", "is empty")
        if len(data) > MAX_BYTES:
            raise FieldError("photo", f"is {len(data)} bytes; at most {MAX_BYTES} accepted")
        ext, magic = TYPES[kind]
        if not data.startswith(magic) or (kind == "image/webp" and data[8:12] != b"WEBP"):
            raise FieldError("photo", f"the bytes are not a {kind} image")
        ref = f"sha256-{hashlib.sha256(data).hexdigest()}.{ext}"
        path = self._path(ref)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(path)  # never a half-written photo under its final name
        return ref

    def read(self, ref: str) -> bytes:
        return self._path(ref).read_bytes()

    def _path(self, ref: str) -> Path:
        if not _REF.match(ref):
            raise FieldError("photo", f"{ref[:80]!r} is not an attachment reference")
        return self.root / ref[7:9] / ref
