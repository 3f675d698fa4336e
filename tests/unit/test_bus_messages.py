"""Bus messages: how events are packed for the stream and read back by a worker."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from cityeye.domain import Event, FieldError, parse_event
from cityeye.live.bus import (
    MESSAGE_BYTES,
    MESSAGE_EVENTS,
    decode,
    encode,
    item,
    message_id,
    pack,
    unpack,
)
from cityeye.store import Store
from kit import at


def event(i: int, text: str = "", source: str = "app") -> Event:
    return parse_event(
        {
            "id": f"e{i}",
            "kind": "report.citizen",
            "ts": at(i).isoformat(),
            "source": source,
            "attrs": {"category": "road", "text": text},
        }
    )


def test_messages_hold_at_most_the_limit_and_name_their_range() -> None:
    items = [item(seq, event(seq), "G0001") for seq in range(1, 1201)]
    messages = pack(items)
    assert [ident.split(":")[0] for _, ident in messages] == ["1-500", "501-1000", "1001-1200"]
    back = [i for body, _ in messages for i in unpack(body)]
    assert [i["seq"] for i in back] == list(range(1, 1201))
    assert all(len(unpack(body)) <= MESSAGE_EVENTS for body, _ in messages)


def test_finding_08_message_ids_name_the_installation_and_the_events() -> None:
    """Issue 14, finding 8: ids of sequence numbers alone (``1-500/0``) repeat when a
    database is recreated, and the stream then drops new events as duplicates. The
    id names the installation, the partition and a digest of the events' (source,
    id): the same events give the same id (a re-publish is dropped), other events at
    the same sequence numbers, or another installation, never do."""
    first = [item(seq, event(seq), "G0001") for seq in range(1, 11)]
    [(_, ident)] = pack(first)
    assert pack(list(first))[0][1] == ident  # the same events: the same id
    assert ident.startswith("1-10:")
    others = [item(seq, event(seq + 100), "G0001") for seq in range(1, 11)]
    [(_, other)] = pack(others)
    assert other.startswith("1-10:")
    assert other != ident  # same numbers, other events
    moved = [item(seq, event(seq, source="gw"), "G0001") for seq in range(1, 11)]
    assert pack(moved)[0][1] != ident  # the same ids from another source
    mid = message_id("3f2a9c0d1e2b4a5c", 1, ident)
    assert mid == f"3f2a9c0d1e2b4a5c:1:{ident}"
    assert message_id("0000000000000000", 1, ident) != mid
    assert message_id("3f2a9c0d1e2b4a5c", 0, ident) != mid


def test_a_message_stays_under_the_byte_limit() -> None:
    text = "长" * 20_000  # ~60 KB an event
    items = [item(seq, event(seq, text), None) for seq in range(1, 21)]
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
