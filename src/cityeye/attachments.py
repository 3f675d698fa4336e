"""Attachments (photos of a handled case, of a resident's report): checked,
cleaned, content-addressed, kept on disk.

A phone uploads a photo; the case's timeline keeps only its reference. The store
refuses what is not the image it claims to be (the first bytes must match the declared
type: a script renamed ``.jpg`` is not a photo), anything empty or over the size limit,
and references that could escape the folder. Then it decodes the picture and encodes it
again: only a real image passes (not a valid header followed by a script), and what a
phone puts in a photo besides the picture (EXIF with the GPS position of a resident's
home, the phone's serial number, comments) is left behind. Files are named by the
SHA-256 of what is kept; encoding is deterministic, so the same photo sent twice (a
retry on a bad network) is stored once.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import warnings
from pathlib import Path

from PIL import Image, ImageOps

from cityeye.domain import FieldError

MAX_BYTES = 10 * 1024 * 1024
#: Declared content type → (file extension, accepted leading bytes).
TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "image/jpeg": ("jpg", (b"\xff\xd8\xff",)),
    "image/png": ("png", (b"\x89PNG\r\n\x1a\n",)),
    "image/webp": ("webp", (b"RIFF",)),
}
_REF = re.compile(r"^sha256-[0-9a-f]{64}\.(jpg|png|webp)$")
#: Pillow's name of each type, and the most pixels a photo may have (a 48-megapixel
#: phone camera fits; a "decompression bomb" of a few KB that unpacks to gigabytes
#: does not).
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
MAX_PIXELS = 50_000_000


def clean_image(data: bytes, kind: str) -> bytes:
    """The picture of ``data`` (a ``kind`` image) encoded anew, upright, with no
    metadata; :class:`FieldError` when it does not decode as that kind."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[FORMATS[kind]]) as opened:
                if opened.width * opened.height > MAX_PIXELS:
                    raise FieldError(
                        "photo", f"is {opened.width}×{opened.height}; at most {MAX_PIXELS} pixels"
                    )
                picture = ImageOps.exif_transpose(opened)  # keep it upright without EXIF
                picture.load()
                # Pillow writes back what it read unless told not to (a JPEG's COM
                # comment, ICC, XMP, DPI): the copy carries the pixels and nothing else
                picture.info = {}
    except FieldError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning):
        raise FieldError("photo", f"does not decode as a {kind} image") from None
    out = io.BytesIO()
    if kind == "image/jpeg":
        if picture.mode not in ("RGB", "L"):
            picture = picture.convert("RGB")
        picture.save(out, format="JPEG", quality=88)
    elif kind == "image/webp":
        picture.save(out, format="WEBP", quality=88)
    else:
        picture.save(out, format="PNG")
    return out.getvalue()


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
        data = clean_image(data, kind)
        ref = f"sha256-{hashlib.sha256(data).hexdigest()}.{ext}"
        path = self._path(ref)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # a name of its own for each upload: two retries of one photo at once must
            # not write the same partial file; the rename puts a whole photo in place
            handle, partial = tempfile.mkstemp(dir=path.parent, suffix=".part")
            try:
                with os.fdopen(handle, "wb") as f:
                    f.write(data)
                os.replace(partial, path)
            except BaseException:
                Path(partial).unlink(missing_ok=True)
                raise
        return ref

    def read(self, ref: str) -> bytes:
        return self._path(ref).read_bytes()

    def check(self, refs: list[str]) -> None:
        """Every photo a case or a report names must be one uploaded here (no outside
        links in the record); ``FieldError`` names the first that is not."""
        for i, ref in enumerate(refs):
            try:
                self._path(ref).stat()
            except (FieldError, FileNotFoundError):
                raise FieldError(f"photos[{i}]", f"{ref[:80]!r} is not an uploaded photo") from None

    def _path(self, ref: str) -> Path:
        if not _REF.match(ref):
            raise FieldError("photo", f"{ref[:80]!r} is not an attachment reference")
        return self.root / ref[7:9] / ref
