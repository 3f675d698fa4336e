"""``/api/v1/attachments``: photos for cases (a handler's "after" picture).

The body is the image itself with its ``Content-Type`` (``image/jpeg``, ``image/png``,
``image/webp``), as a phone's ``fetch(url, {body: file})`` sends it, so no multipart
parser is needed. The answer is a reference (``sha256-….jpg``) to put in a move's
``photos``; :class:`~cityeye.attachments.AttachmentStore` checks that the bytes are the image
they claim to be and keeps one copy per content.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response
from fastapi.concurrency import run_in_threadpool

from cityeye.api.auth import CurrentUser
from cityeye.api.deps import Svc
from cityeye.api.events import read_body
from cityeye.attachments import MAX_BYTES, TYPES, AttachmentStore
from cityeye.domain import FieldError
from cityeye.domain.users import UserRole


async def save_upload(request: Request, files: AttachmentStore, field: str | None = None) -> str:
    """The one way a photo is taken in (the desk's and the portal's uploads): read the
    body (bounded), check and keep it off the event loop (decoding a 10 MB photo
    takes a moment), and answer its reference; 422 ``field: reason`` when it is not
    the image it claims to be (``field`` overrides the store's field name)."""
    data = await read_body(request, MAX_BYTES)
    try:
        return await run_in_threadpool(files.save, data, request.headers.get("content-type", ""))
    except FieldError as exc:
        raise HTTPException(422, f"{field or exc.field}: {exc.reason}") from None


router = APIRouter(prefix="/api/v1/attachments", tags=["attachments"])


@router.post("", status_code=201)
async def upload(request: Request, user: CurrentUser, svc: Svc) -> dict[str, str]:
    """Store one photo; returns its reference."""
    if user.role == UserRole.LEADER:
        raise HTTPException(403, "a leader adds nothing")
    return {"ref": await save_upload(request, svc.files)}


@router.get("/{ref}")
def download(ref: Annotated[str, Path(max_length=80)], user: CurrentUser, svc: Svc) -> Response:
    return photo_response(svc.files, ref)


def photo_response(files: AttachmentStore, ref: str) -> Response:
    """A kept photo as an answer (the desk's, and a reporter's on the portal)."""
    try:
        data = files.read(ref)
    except (FieldError, FileNotFoundError):
        raise HTTPException(404, f"no attachment {ref}") from None
    kind = next(t for t, (ext, _) in TYPES.items() if ref.endswith(f".{ext}"))
    # content-addressed: it never changes; and never sniffed as anything else
    headers = {
        "Cache-Control": "private, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(data, media_type=kind, headers=headers)
