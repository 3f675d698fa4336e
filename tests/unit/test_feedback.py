"""Feedback (反馈): photos kept safely, reporters told the outcome."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import orjson
import pytest
from PIL import Image
from test_replay_cases import line

from cityeye.attachments import MAX_BYTES, AttachmentStore
from cityeye.backtest import run_replay
from cityeye.domain import FieldError
from cityeye.world import load_world
from kit import photo

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
JPEG = photo("image/jpeg")
PNG = photo()


def test_photo_is_stored_once_under_its_hash(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    ref = store.save(JPEG, "image/jpeg")
    assert ref.startswith("sha256-")
    assert ref.endswith(".jpg")
    assert store.save(JPEG, "image/jpeg; charset=binary") == ref  # a retry: same file
    with Image.open(io.BytesIO(store.read(ref))) as kept:
        assert (kept.format, kept.size) == ("JPEG", (16, 16))
    assert len(list(tmp_path.rglob("*.jpg"))) == 1


def test_a_photo_keeps_the_picture_but_not_where_it_was_taken(tmp_path: Path) -> None:
    """A resident's photo must not publish the GPS position of their home."""
    exif = Image.Exif()
    exif[0x8825] = {2: (30.0, 18.0, 5.0), 4: (120.0, 6.0, 1.0)}  # GPSInfo: lat, lon
    exif[0x010F] = "PhoneMaker"  # Make
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 200, 30)).save(out, format="JPEG", exif=exif)
    assert b"PhoneMaker" in out.getvalue()
    store = AttachmentStore(tmp_path)
    kept = store.read(store.save(out.getvalue(), "image/jpeg"))
    assert b"PhoneMaker" not in kept
    with Image.open(io.BytesIO(kept)) as image:
        assert image.size == (32, 24)
        assert not image.getexif()


def test_the_same_photo_sent_twice_at_once_is_stored_once(tmp_path: Path) -> None:
    """A phone retrying on a bad network: both uploads get the same reference."""
    store = AttachmentStore(tmp_path)
    big = io.BytesIO()
    Image.effect_noise((800, 600), 60).convert("RGB").save(big, format="PNG")
    refs: list[str] = []
    errors: list[BaseException] = []

    def upload() -> None:
        try:
            refs.append(store.save(big.getvalue(), "image/png"))
        except BaseException as exc:  # collected: the test fails on any
            errors.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(refs)) == 1
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [refs[0]]


@pytest.mark.parametrize(
    ("data", "content_type", "words"),
    [
        (b"#!/bin/sh\nrm -rf /", "image/jpeg", "not a image/jpeg"),
        (PNG, "image/jpeg", "not a image/jpeg"),
        (JPEG, "application/pdf", "not one of"),
        (b"", "image/png", "empty"),
        (b"\xff\xd8\xff" + b"\x00" * MAX_BYTES, "image/jpeg", "at most"),
        (b"\xff\xd8\xff<script>alert(1)</script>", "image/jpeg", "does not decode"),
        (PNG[:40], "image/png", "does not decode"),  # cut off on the way
    ],
)
def test_photos_that_are_not_what_they_claim_are_refused(
    tmp_path: Path, data: bytes, content_type: str, words: str
) -> None:
    with pytest.raises(FieldError) as info:
        AttachmentStore(tmp_path).save(data, content_type)
    assert info.value.field == "photo"
    assert words in info.value.reason
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "ref", ["../../etc/passwd", "sha256-abc.jpg", "sha256-" + "0" * 64 + ".sh"]
)
def test_references_cannot_escape_the_folder(tmp_path: Path, ref: str) -> None:
    with pytest.raises(FieldError, match="not an attachment reference"):
        AttachmentStore(tmp_path).read(ref)


def test_reporter_is_told_when_handled_and_when_closed(tmp_path: Path) -> None:
    def act(i: int, hhmm: str, **attrs: object) -> bytes:
        return line(i, "case.action", hhmm, attrs={"case": "C000001"} | attrs)

    events = [
        line(
            1,
            "report.citizen",
            "08:00",
            area="G0001",
            attrs={"category": "garbage", "text": "楼下垃圾没清", "reporter": "138****0001"},
        ),
        act(2, "08:30", action="accept", party="P-GW1"),
        act(3, "09:00", action="handle", party="P-GW1", note="已清运"),
        act(4, "09:10", action="verify", role="verifier"),
        act(5, "09:11", action="close"),
        act(6, "09:30", action="rate", rating=5),
        line(7, "door.open", "10:00", device_id="D1"),
    ]
    path = tmp_path / "e.jsonl"
    path.write_bytes(b"\n".join(events) + b"\n")
    run_replay(path, tmp_path / "out", load_world(FIXTURES / "world_small.yaml"))
    sent = [
        orjson.loads(x)
        for x in (tmp_path / "out" / "notifications.jsonl").read_bytes().splitlines()
    ]
    assert [(n["to"], n["kind"]) for n in sent] == [
        ("138****0001", "handled"),
        ("138****0001", "closed"),
    ]
    assert "已清运" in sent[0]["text"]
    metrics = orjson.loads((tmp_path / "out" / "metrics.json").read_bytes())
    assert metrics["cases"]["kpis"]["satisfaction"] == 1.0
