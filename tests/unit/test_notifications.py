"""Telling people at once (issue 15, item 3): the notification outbox, the desk's list
and live stream, and webhook / SMS delivery to real local HTTP receivers.

The district is world_small: 长征桥社区 (grids G0001, G0002) and 小河社区 (G0003). A
road report in G0001 is dispatched to the grid worker party P-GW1; an SOS there is
critical. zhang and li work for P-GW1, wang for the 长征桥 residents' committee P-C1;
cz dispatches for 长征桥, xh for 小河."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.api.sse import last_event_id
from cityeye.cases.outbox import Channels
from cityeye.live.pipeline import LivePipeline
from cityeye.notifiers import (
    HttpSmsGateway,
    NotifyConfig,
    NotifyError,
    OutboxSender,
    Retry,
    Webhook,
    load_notify,
)
from cityeye.store import Store
from cityeye.store.outbox import notification_rows, outbox_counts
from cityeye.store.requests import Follow, add_follow
from cityeye.store.users import set_phone, user_with_hash
from cityeye.world import load_world
from kit import Receiver, at
from serving import free_port, start_serve, wait_until, wait_until_serving

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "correct horse battery"
USERS: dict[str, dict[str, Any]] = {
    "zhang": {"role": "handler", "party_id": "P-GW1"},
    "li": {"role": "handler", "party_id": "P-GW1"},
    "wang": {"role": "handler", "party_id": "P-C1"},
    "cz": {"role": "dispatcher", "areas": ("330105001001",)},  # 长征桥 (G0001, G0002)
    "xh": {"role": "dispatcher", "areas": ("330105001002",)},  # 小河 (G0003)
    "resident": {"role": "resident"},
}
T_SEND = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)


def event(eid: str, kind: str, minute: float, source: str = "app", **fields: Any) -> bytes:
    return orjson.dumps(
        {"id": eid, "kind": kind, "ts": at(minute).isoformat(), "source": source, **fields}
    )


def road(eid: str, minute: float, grid: str = "G0001", source: str = "app") -> bytes:
    attrs = {"category": "road", "text": f"路面坑洼 {eid}"}
    return event(eid, "report.citizen", minute, source, area=grid, attrs=attrs)


def sos(eid: str, minute: float) -> bytes:
    return event(eid, "button.sos", minute, "dev", subject="S1", area="G0001", attrs={})


@dataclass
class District:
    store: Store
    pipeline: LivePipeline
    ids: dict[str, str]  # username → user id

    def rows(self, **match: Any) -> list[dict[str, Any]]:
        return [
            r for r in notification_rows(self.store) if all(r[k] == v for k, v in match.items())
        ]

    def desk(self, kind: str | None = None) -> set[str]:
        """Usernames with a desk row (of ``kind``)."""
        names = {v: k for k, v in self.ids.items()}
        return {
            names[r["user_id"]]
            for r in self.rows(channel="desk")
            if kind is None or r["kind"] == kind
        }


@pytest.fixture
def district(tmp_path: Path) -> Iterator[District]:
    store = Store.open(f"sqlite:///{tmp_path / 'notify.db'}")
    world = load_world(FIXTURES / "world_small.yaml")
    store.save_world(world)
    ids = {
        name: create_user(store, world, username=name, password=PASSWORD, **spec).id
        for name, spec in USERS.items()
    }
    yield District(store, LivePipeline(store, lateness_s=0), ids)
    store.close()


# ---------------------------------------------------------------------- who is told
def test_a_dispatched_case_tells_the_partys_handlers_and_nobody_else(
    district: District,
) -> None:
    district.pipeline.ingest_raw([road("r1", 1)], "test")
    (case,) = district.store.load_cases()
    assert case.lead == "P-GW1"
    assert district.desk() == {"zhang", "li"}  # not wang (another party), no dispatcher
    row = district.rows(user_id=district.ids["zhang"])[0]
    assert (row["kind"], row["channel"], row["state"]) == ("dispatched", "desk", "sent")
    assert row["payload"]["url"] == f"/desk#case={case.id}"
    assert row["payload"]["area"] == "G0001"
    assert "长征桥社区第1网格" in row["payload"]["text"]
    assert not district.rows(channel="webhook")  # none configured
    assert outbox_counts(district.store) == {"pending": 0, "failed": 0}


def test_a_critical_case_also_tells_the_dispatchers_whose_areas_cover_it(
    district: District,
) -> None:
    district.pipeline.ingest_raw([sos("s1", 1)], "test")
    (case,) = district.store.load_cases()
    assert case.severity == "critical"
    assert district.desk("critical") == {"cz"}  # 小河's dispatcher is not told
    (row,) = district.rows(kind="critical")
    assert row["payload"]["severity"] == "critical"
    assert row["payload"]["title"] == f"紧急案件 {case.id}"
    # the grid worker's handlers got it as dispatched (critical, so the desk rings)
    assert case.lead == "P-GW1"
    assert district.desk("dispatched") == {"zhang", "li"}
    titles = {r["payload"]["title"] for r in district.rows(kind="dispatched")}
    assert titles == {row["payload"]["title"]}


def test_a_restart_that_feeds_the_events_again_tells_nobody_twice(
    district: District,
) -> None:
    district.pipeline.ingest_raw([road("r1", 1), sos("s1", 2)], "test")
    before = notification_rows(district.store)
    assert len(before) == 5  # zhang, li (two dispatched); cz (critical)
    district.pipeline.snapshot()
    # a crash before the snapshot: the new process re-feeds every stored event
    with district.store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM engine_state")
    LivePipeline(district.store, lateness_s=0)
    assert notification_rows(district.store) == before


def test_the_resident_who_reported_hears_handled_and_closed(district: District) -> None:
    store, ids = district.store, district.ids
    add_follow(store, Follow("p1", "k" * 64, ids["resident"], at(0)))
    district.pipeline.ingest_raw([road("p1", 1, source="portal")], "portal")
    (case,) = store.load_cases()
    moves = [("accept", "handler"), ("handle", "handler"), ("verify", "dispatcher")]
    moves += [("close", "dispatcher")]
    district.pipeline.ingest_raw(
        [
            event(
                f"a{i}",
                "case.action",
                2 + i,
                attrs={"case": case.id, "action": action, "role": role, "note": "已修补"},
            )
            for i, (action, role) in enumerate(moves)
        ],
        "test",
    )
    assert store.load_cases()[0].state == "closed"
    mine = district.rows(user_id=ids["resident"])
    assert [r["kind"] for r in mine] == ["handled", "closed"]
    assert mine[0]["payload"]["text"] == f"您反映的问题（{case.id}）已处置：已修补。"
    assert mine[1]["payload"]["url"] == "/portal#track=p1"


# ---------------------------------------------------------------------- the desk's API
def signed_in(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def read_stream(client: TestClient, auth: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    with client.stream("GET", "/api/v1/notifications/stream", params=params, headers=auth) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        body = "".join(r.iter_text())
    out = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if fields.get("event") == "notification":
            item = orjson.loads(fields["data"])
            assert int(fields["id"]) == item["seq"]
            out.append(item)
    return out


def test_each_person_lists_and_streams_only_their_own_notifications(
    district: District,
) -> None:
    district.pipeline.ingest_raw([road("r1", 1), road("r2", 2, "G0003")], "test")
    with TestClient(create_app(district.store, district.pipeline, wall_clock=False)) as client:
        zhang, cz, wang = (signed_in(client, n) for n in ("zhang", "cz", "wang"))
        page = client.get("/api/v1/notifications", headers=zhang).json()
        assert [i["kind"] for i in page["items"]] == ["dispatched"]
        item = page["items"][0]
        assert set(item) == {
            "seq", "case_id", "kind", "title", "text", "severity", "area", "at", "url"
        }  # fmt: skip
        assert page["last"] == item["seq"]
        assert datetime.fromisoformat(item["at"]) == at(1)
        assert client.get("/api/v1/notifications", headers=cz).json() == {"items": [], "last": 0}
        assert client.get("/api/v1/notifications", headers=wang).json()["items"] == []
        after = client.get("/api/v1/notifications", params={"after": item["seq"]}, headers=zhang)
        assert after.json() == {"items": [], "last": item["seq"]}
        # the stream from the start gives zhang's own row, and only it
        assert read_stream(client, zhang, after=0, limit=1) == [item]
        # a critical case: cz's stream gets it, zhang's row never reaches cz
        district.pipeline.ingest_raw([sos("s1", 3)], "test")
        (critical,) = read_stream(client, cz, after=0, limit=1)
        assert critical["kind"] == "critical"
        assert critical["seq"] > item["seq"]
        assert client.get("/api/v1/notifications", headers=wang).json()["items"] == []
        assert client.get("/api/v1/notifications").status_code == 401
        assert client.get("/api/v1/notifications/stream").status_code == 401
        # a cursor beyond the database's integers is refused, not a server error
        huge = {"after": 2**64}
        refused = client.get("/api/v1/notifications", params=huge, headers=zhang)
        assert refused.status_code == 422
        assert "after" in refused.json()["detail"]
        assert client.get("/api/v1/alerts/stream", params=huge, headers=zhang).status_code == 422
        # and a reconnecting browser's header beyond them means "from now"
        assert last_event_id(None, str(2**64)) is None
        assert last_event_id(None, str(2**63 - 1)) == 2**63 - 1


def test_an_open_desk_hears_of_a_dispatch_within_two_seconds(district: District) -> None:
    with TestClient(create_app(district.store, district.pipeline, wall_clock=False)) as client:
        zhang = signed_in(client, "zhang")
        listening = threading.Event()
        heard: list[tuple[float, dict[str, Any]]] = []

        def listen() -> None:
            params = {"after": 0, "limit": 1}
            with client.stream(
                "GET", "/api/v1/notifications/stream", params=params, headers=zhang
            ) as r:
                for line in r.iter_lines():
                    listening.set()  # the stream is open and looking
                    if line.startswith("data: "):
                        heard.append((time.monotonic(), orjson.loads(line[6:])))

        listener = threading.Thread(target=listen)
        listener.start()
        assert listening.wait(10)
        dispatched = time.monotonic()
        district.pipeline.ingest_raw([road("r1", 1)], "test")
        listener.join(timeout=10)
        assert heard, "the stream never delivered"
        arrived, item = heard[0]
        assert item["kind"] == "dispatched"
        assert arrived - dispatched < 2.0


# ---------------------------------------------------------------------- receivers
@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    server = r.serve()
    yield r
    if r.hold is not None:
        r.hold.set()
    server.shutdown()
    server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = T_SEND

    def __call__(self) -> datetime:
        return self.now


def with_webhook(district: District, hook: Webhook, **config: Any) -> NotifyConfig:
    notify = NotifyConfig({"P-GW1": hook}, **config)
    district.store.channels = notify.channels
    return notify


def test_dingtalk_robot_gets_a_markdown_body_signed_as_dingtalk_signs(
    district: District, receiver: Receiver
) -> None:
    secret = "SEC-test-secret"
    hook = Webhook("dingtalk", f"{receiver.url}/robot/send?access_token=abc", secret)
    notify = with_webhook(district, hook, base_url="https://cityeye.example.gov.cn")
    district.pipeline.ingest_raw([road("r1", 1)], "test")
    (row,) = district.rows(channel="webhook")
    assert (row["party_id"], row["state"]) == ("P-GW1", "pending")
    assert OutboxSender(district.store, notify, now=Clock()).run_once() == 1
    (path, _, body) = receiver.got[0]
    query = parse_qs(urlsplit(path).query)
    assert query["access_token"] == ["abc"]
    stamp = query["timestamp"][0]
    assert int(stamp) == int(T_SEND.timestamp() * 1000)
    expected = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256)
    raw_sign = urlsplit(path).query.split("sign=")[1]
    assert unquote_plus(raw_sign) == base64.b64encode(expected.digest()).decode()
    sent = json.loads(body)
    assert sent["msgtype"] == "markdown"
    assert sent["markdown"]["title"] == row["payload"]["title"]
    assert row["payload"]["text"] in sent["markdown"]["text"]
    case_id = row["case_id"]
    assert f"https://cityeye.example.gov.cn/desk#case={case_id}" in sent["markdown"]["text"]
    assert district.rows(channel="webhook")[0]["state"] == "sent"


def test_wecom_robot_gets_its_markdown_body_and_json_gets_a_signature_header(
    district: District, receiver: Receiver
) -> None:
    wecom = with_webhook(district, Webhook("wecom", f"{receiver.url}/cgi-bin/webhook/send?key=K"))
    district.pipeline.ingest_raw([road("r1", 1)], "test")
    OutboxSender(district.store, wecom, now=Clock()).run_once()
    path, _, body = receiver.got[0]
    assert path == "/cgi-bin/webhook/send?key=K"
    sent = json.loads(body)
    assert sent["msgtype"] == "markdown"
    assert set(sent["markdown"]) == {"content"}
    assert "新案件" in sent["markdown"]["content"]
    # the same party on a generic JSON receiver, signed with an HMAC of the body
    plain = with_webhook(district, Webhook("json", f"{receiver.url}/hook", "s3cret"))
    district.pipeline.ingest_raw([road("r2", 2)], "test")
    OutboxSender(district.store, plain, now=Clock()).run_once()
    path, headers, body = receiver.got[1]
    headers = {k.lower(): v for k, v in headers.items()}
    digest = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["x-cityeye-signature"] == f"sha256={digest}"
    assert headers["x-cityeye-timestamp"] == str(int(T_SEND.timestamp()))
    sent = json.loads(body)
    assert sent["kind"] == "dispatched"
    assert sent["timestamp"] == int(T_SEND.timestamp())


def test_a_failed_delivery_is_retried_with_backoff_then_sent(
    district: District, receiver: Receiver
) -> None:
    receiver.answers = [(500, b"busy"), (200, b'{"errcode":310000,"errmsg":"sign not match"}')]
    retry = Retry(base_s=10, cap_s=15, attempts=4)
    notify = with_webhook(district, Webhook("dingtalk", f"{receiver.url}/r?t=1", "S"), retry=retry)
    district.pipeline.ingest_raw([road("r1", 1)], "test")
    clock = Clock()
    sender = OutboxSender(district.store, notify, now=clock)
    assert sender.run_once() == 1
    (row,) = district.rows(channel="webhook")
    assert (row["state"], row["attempts"], row["last_error"]) == ("pending", 1, "HTTP 500")
    assert row["next_try_at"] == T_SEND + timedelta(seconds=10)
    clock.now = T_SEND + timedelta(seconds=9)
    assert sender.run_once() == 0  # not due yet
    clock.now = T_SEND + timedelta(seconds=10)
    assert sender.run_once() == 1  # a 200 that says the signature was wrong is a failure
    (row,) = district.rows(channel="webhook")
    assert row["attempts"] == 2
    assert row["last_error"].startswith("errcode 310000")
    assert row["next_try_at"] == clock.now + timedelta(seconds=15)  # 20 s, capped at 15
    clock.now += timedelta(seconds=15)
    assert sender.run_once() == 1
    (row,) = district.rows(channel="webhook")
    assert (row["state"], row["attempts"], row["sent_at"]) == ("sent", 3, clock.now)
    assert len(receiver.got) == 3


def test_a_receiver_that_never_accepts_ends_failed_and_is_kept(
    district: District, receiver: Receiver
) -> None:
    receiver.answers = [(503, b"")] * 3
    notify = with_webhook(
        district, Webhook("json", f"{receiver.url}/h"), retry=Retry(1, 1, attempts=3)
    )
    district.pipeline.ingest_raw([road("r1", 1)], "test")
    clock = Clock()
    sender = OutboxSender(district.store, notify, now=clock)
    for _ in range(3):
        assert sender.run_once() == 1
        clock.now += timedelta(seconds=1)
    assert sender.run_once() == 0
    (row,) = district.rows(channel="webhook")
    assert (row["state"], row["attempts"], row["last_error"]) == ("failed", 3, "HTTP 503")
    assert outbox_counts(district.store) == {"pending": 0, "failed": 1}
    with TestClient(create_app(district.store, district.pipeline, wall_clock=False)) as client:
        status = client.get("/api/v1/status").json()
    assert status["notifications"] == {"pending": 0, "failed": 1}


def test_sms_goes_to_handlers_with_a_phone_through_the_http_gateway(
    district: District, receiver: Receiver
) -> None:
    set_phone(district.store, district.ids["zhang"], "13800000001")
    gateway = HttpSmsGateway(f"{receiver.url}/sms", "gw-secret", now=Clock())
    notify = NotifyConfig(sms=gateway, base_url="https://ce.example")
    district.store.channels = notify.channels
    district.pipeline.ingest_raw([road("r1", 1)], "test")
    (row,) = district.rows(channel="sms")  # li has no phone
    assert row["user_id"] == district.ids["zhang"]
    assert OutboxSender(district.store, notify, now=Clock()).run_once() == 1
    path, headers, body = receiver.got[0]
    sent = json.loads(body)
    assert path == "/sms"
    assert sent["phone"] == "13800000001"
    assert sent["text"].startswith("【城市眼】新案件")
    assert sent["text"].endswith(f"https://ce.example/desk#case={row['case_id']}")
    digest = hmac.new(b"gw-secret", body, hashlib.sha256).hexdigest()
    assert {k.lower(): v for k, v in headers.items()}["x-cityeye-signature"] == f"sha256={digest}"
    assert district.rows(channel="sms")[0]["state"] == "sent"


def test_the_engine_never_waits_for_a_slow_webhook(district: District, receiver: Receiver) -> None:
    """The receiver holds every request until released: ingest and the desk go on."""
    receiver.hold = threading.Event()
    notify = with_webhook(district, Webhook("json", f"{receiver.url}/slow"))
    sender = OutboxSender(district.store, notify, poll_s=0.05)
    sender.start()
    try:
        started = time.monotonic()
        district.pipeline.ingest_raw([road("r1", 1)], "test")
        assert receiver.arrived.wait(5), "the sender never posted"
        # the sender is stuck in the POST; more events are taken and told at once
        district.pipeline.ingest_raw([road("r2", 2)], "test")
        assert time.monotonic() - started < 2.0
        assert len(district.rows(channel="desk", kind="dispatched")) == 4
        receiver.hold.set()
        deadline = time.monotonic() + 10
        while {r["state"] for r in district.rows(channel="webhook")} != {"sent"}:
            assert time.monotonic() < deadline, district.rows(channel="webhook")
            receiver.arrived.wait(0.05)
    finally:
        receiver.hold.set()
        sender.stop()


# ---------------------------------------------------------------------- the notify file
def test_the_notify_file_names_every_mistake(tmp_path: Path) -> None:
    world = load_world(FIXTURES / "world_small.yaml")
    bad = tmp_path / "notify.yaml"
    bad.write_text(
        "base_url: cityeye.local\n"
        "parties:\n"
        "  P-GW1:\n"
        "    webhook: {format: wecom, url: 'https://qyapi.weixin.qq.com/x?key=1', secret: s}\n"
        "  P-NOPE:\n"
        "    webhook: {format: dingtalk, url: 'ftp://x'}\n"
        "sms: {url: 'http://10.0.0.5/sms'}\n"
        "retry: {base: 1h, cap: 10s}\n",
        encoding="utf-8",
    )
    with pytest.raises(NotifyError) as exc:
        load_notify(bad, world)
    found = {(p.path, p.line) for p in exc.value.problems}
    assert found == {
        ("base_url", 1),
        ("parties.P-GW1.webhook.secret", 4),
        ("parties.P-NOPE", 5),
        ("parties.P-NOPE.webhook.url", 6),
        ("retry.cap", 8),
    }
    typo = tmp_path / "typo.yaml"
    typo.write_text("parties: {P-GW1: {webhook: {format: slack, url: 'http://x'}}}\nsmss: {}\n")
    with pytest.raises(NotifyError) as exc:
        load_notify(typo, world)
    messages = {p.path: p.message for p in exc.value.problems}
    assert "dingtalk, wecom or json" in messages["parties.P-GW1.webhook.format"]
    assert "not a notify setting" in messages["smss"]
    good = tmp_path / "good.yaml"
    good.write_text(
        "base_url: https://cityeye.example.gov.cn/\n"
        "timeout: 3s\n"
        "parties:\n"
        "  P-GW1: {webhook: {format: dingtalk, url: 'https://oapi.dingtalk.com/robot/send?access_token=x', secret: SECx}}\n"  # noqa: E501
        "  P-C1: {webhook: {format: wecom, url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=y'}}\n"
        "sms: {url: 'http://10.0.0.5/sms', secret: z}\n"
        "retry: {base: 30s, cap: 30m, attempts: 5}\n"
    )
    config = load_notify(good, world)
    assert config.channels == Channels(frozenset({"P-GW1", "P-C1"}), sms=True)
    assert config.base_url == "https://cityeye.example.gov.cn"
    assert (config.timeout_s, config.retry) == (3.0, Retry(30, 1800, 5))


def test_a_phone_is_set_per_user(district: District) -> None:
    found = user_with_hash(district.store, "li")
    assert found is not None
    set_phone(district.store, found[0].id, "13900000002")
    district.store.channels = Channels(sms=True)
    district.pipeline.ingest_raw([road("r1", 1)], "test")
    assert [r["user_id"] for r in district.rows(channel="sms")] == [district.ids["li"]]


# ---------------------------------------------------------------------- cityeye serve
@pytest.mark.parametrize("analysis", ["process", "thread"])
def test_serve_with_a_notify_file_posts_to_the_partys_robot(
    tmp_path: Path, receiver: Receiver, analysis: str
) -> None:
    """The whole path in a real process — the engine in a process of its own (the
    default), which must write the webhook rows too, or beside the API: a report
    posted over HTTP reaches the grid
    worker's 钉钉 robot (signed), the handler's desk list, and the status counts."""
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    store = Store.open(url)
    world = load_world(FIXTURES / "world_small.yaml")
    store.save_world(world)
    create_user(store, world, username="zhang", password=PASSWORD, role="handler", party_id="P-GW1")
    store.close()
    notify = tmp_path / "notify.yaml"
    notify.write_text(
        "parties:\n"
        f"  P-GW1: {{webhook: {{format: dingtalk, url: '{receiver.url}/robot/send?access_token=t',"
        " secret: SECx}}\n"
        "retry: {base: 1s}\n",
        encoding="utf-8",
    )
    port = free_port()
    proc = start_serve(
        "--db", url, "--port", str(port), "--open-ingest", "--clock", "events",
        "--notify", str(notify), "--analysis", analysis,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{base}/healthz", proc)
        posted = httpx.post(f"{base}/api/v1/events", content=road("r1", 1), timeout=10)
        assert posted.status_code < 300, posted.text
        assert receiver.arrived.wait(10), "the robot was never called"
        path, _, body = receiver.got[0]
        assert "&timestamp=" in path
        assert "&sign=" in path
        assert json.loads(body)["msgtype"] == "markdown"
        token = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": "zhang", "password": PASSWORD}
        ).json()["token"]
        page = httpx.get(
            f"{base}/api/v1/notifications", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert [i["kind"] for i in page["items"]] == ["dispatched"]
        wait_until(
            lambda: (
                httpx.get(f"{base}/api/v1/status").json()["notifications"]
                == {"pending": 0, "failed": 0}
            ),
            "the webhook row marked sent",
        )
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out.decode(errors="replace")[-2000:]
    assert b"notify: 1 party webhook(s), SMS off" in out
