"""Bus messages: how events are packed for the stream and read back by a worker."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from cityeye.bus import MESSAGE_BYTES, MESSAGE_EVENTS, decode, encode, pack, unpack
from cityeye.domain import Event, FieldError, parse_event
from cityeye.store import Store
from kit import at


def event(i: int, text: str = "") -> Event:
    return parse_event(
        {
            "id": f"e{i}",
            "kind": "report.citizen",
            "ts": at(i).isoformat(),
            "source": "app",
            "attrs": {"category": "road", "text": text},
        }
    )


def test_messages_hold_at_most_the_limit_and_name_their_range() -> None:
    items = [(seq, encode(seq, event(seq), "G0001")) for seq in range(1, 1201)]
    messages = pack(items)
    assert [ident for _, ident in messages] == ["1-500", "501-1000", "1001-1200"]
    back = [i for body, _ in messages for i in unpack(body)]
    assert [i["seq"] for i in back] == list(range(1, 1201))
    assert all(len(unpack(body)) <= MESSAGE_EVENTS for body, _ in messages)


def test_a_message_stays_under_the_byte_limit() -> None:
    text = "长" * 20_000  # ~60 KB an event
    items = [(seq, encode(seq, event(seq, text), None)) for seq in range(1, 21)]
    messages = pack(items)
    assert len(messages) > 1
    assert all(len(body) <= MESSAGE_BYTES + 2 for body, _ in messages)
    assert sum(len(unpack(body)) for body, _ in messages) == 20


def test_an_oversize_event_travels_by_reference(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'b.db'}")
    big = event(1, "长" * 100_000)  # ~300 KB: over the message limit
    store.add_events([event(0), big], at(0), areas=[None, "G0002"])
    item = orjson.loads(encode(2, big, "G0002"))
    assert item == {"seq": 2, "ref": True}
    got, area = decode(item, store)
    assert (got.id, area, got.attrs["text"]) == ("e1", "G0002", big.attrs["text"])
    with pytest.raises(FieldError, match="no stored event 9"):
        decode({"seq": 9, "ref": True}, store)


def test_bad_messages_name_what_is_wrong(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'b.db'}")
    with pytest.raises(FieldError) as exc:
        unpack(b"{not json")
    assert exc.value.field == "message"
    with pytest.raises(FieldError, match="list of event objects"):
        unpack(b"[1, 2]")
    with pytest.raises(FieldError) as exc:
        decode({"seq": 1, "event": {"id": "x"}}, store)
    assert exc.value.field in {"kind", "ts", "source"}
