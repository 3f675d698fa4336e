"""The resident portal's API (issue 6, part 5): report without an account, get a
tracking number and a follow key, follow the case, rate the result once, and the
limits that keep an anonymous endpoint from being abused.

The district is tests/fixtures/world_small.yaml. Reports are pinned in grid G0003
(小河, around 30.315, 120.11), which has no grid worker: its cases wait for the 小河
dispatcher, who sends them to the property company P-PM1 (a co-governing party)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.api.limits import Throttle
from cityeye.cases.book import CaseBook
from cityeye.domain import Event
from cityeye.live.pipeline import LivePipeline
from cityeye.store import Store
from cityeye.store.requests import get_follow
from cityeye.world import load_world
from kit import photo

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "correct horse battery"
PNG = photo()
IN_G0003 = {"lat": 30.315, "lon": 120.11}
Portal = tuple[TestClient, Store]


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    store = Store.open(f"sqlite:///{tmp_path / 'portal.db'}")
    world = load_world(FIXTURES / "world_small.yaml")
    store.save_world(world)
    users: dict[str, dict[str, Any]] = {
        "disp": {"role": "dispatcher", "areas": ("330105001002",)},
        "zhang": {"role": "handler", "party_id": "P-PM1"},
        "li": {"role": "resident"},
        "wang": {"role": "resident"},
    }
    for name, spec in users.items():
        create_user(store, world, username=name, password=PASSWORD, **spec)
    pipeline = LivePipeline(store, lateness_s=0)
    app = create_app(store, pipeline, wall_clock=False, files=tmp_path / "files")
    app.state.pipeline = pipeline  # for the tests that feed events directly
    with TestClient(app) as client:
        yield client, store
    store.close()


def bearer(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def send_report(client: TestClient, **fields: Any) -> dict[str, Any]:
    body = {"category": "road", "text": "人行道地砖松动", **IN_G0003, **fields}
    r = client.post("/api/v1/portal/reports", json=body)
    assert r.status_code == 201, r.text
    answer: dict[str, Any] = r.json()
    return answer


def move(client: TestClient, who: dict[str, str], case_id: str, action: str, **extra: Any) -> None:
    etag = client.get(f"/api/v1/cases/{case_id}", headers=who).headers["etag"]
    r = client.post(
        f"/api/v1/cases/{case_id}/actions",
        headers={**who, "If-Match": etag},
        json={"action": action, **extra},
    )
    assert r.status_code == 200, r.text


def close_case(client: TestClient, tracking: str) -> str:
    """The staff side of the loop: the dispatcher sends it to the property company,
    whose handler accepts and handles it with a photo; the dispatcher verifies and
    closes."""
    disp, zhang = bearer(client, "disp"), bearer(client, "zhang")
    cases = client.get("/api/v1/cases", headers=disp).json()["items"]
    case_id = next(c["id"] for c in cases if tracking in c["key"])
    move(client, disp, case_id, "dispatch", party="P-PM1")
    move(client, zhang, case_id, "accept")
    photo = client.post(
        "/api/v1/attachments", content=PNG, headers={**zhang, "content-type": "image/png"}
    ).json()["ref"]
    move(client, zhang, case_id, "handle", note="已重新铺设", photos=[photo])
    move(client, disp, case_id, "verify")
    move(client, disp, case_id, "close")
    return case_id


def test_an_anonymous_report_becomes_a_case_and_its_status_follows_it(portal: Portal) -> None:
    client, store = portal
    photo = client.post("/api/v1/portal/photos", content=PNG, headers={"content-type": "image/png"})
    assert photo.status_code == 201, photo.text
    sent = send_report(client, photos=[photo.json()["ref"]], contact="138 1234 5678")
    tracking, key = sent["tracking"], sent["follow_key"]
    assert tracking.startswith("311-")
    # the key is shown once and kept only as a hash
    follow = get_follow(store, tracking)
    assert follow is not None
    assert key not in follow.key_hash
    status = client.get(f"/api/v1/portal/reports/{tracking}").json()
    assert status["state"] == "reported"
    assert status["category"]["zh"]
    assert status["can_rate"] is False
    # the staff see it as a case in the grid of the pin, with the photo and a masked phone
    disp = bearer(client, "disp")
    cases = client.get("/api/v1/cases", headers=disp).json()["items"]
    mine = [c for c in cases if tracking in c["key"]]
    assert len(mine) == 1
    assert mine[0]["area"]["code"] == "G0003"
    stored = [e for _, e, _ in store.events_after(0)]
    report = next(e for e in stored if e.id == tracking)
    assert report.source == "portal"
    assert report.attrs["photos"] == [photo.json()["ref"]]
    assert "1234" not in str(report.attrs)  # the phone is masked
    # Open311 clients see the same request
    assert client.get(f"/open311/v2/requests/{tracking}.json").status_code == 200


def test_the_reporter_rates_a_closed_case_once_with_the_key(portal: Portal) -> None:
    client, store = portal
    sent = send_report(client)
    tracking, key = sent["tracking"], sent["follow_key"]
    early = client.post(
        f"/api/v1/portal/reports/{tracking}/rating", json={"rating": 5}, headers={"Follow-Key": key}
    )
    assert early.status_code == 409  # not closed yet
    case_id = close_case(client, tracking)
    status = client.get(f"/api/v1/portal/reports/{tracking}", headers={"Follow-Key": key}).json()
    assert status["state"] == "closed"
    assert status["can_rate"] is True
    assert [s["state"] for s in status["steps"]][-1] == "closed"
    assert all("zhang" not in str(s) for s in status["steps"])  # no staff names
    # without the key, or with a wrong one, nobody else rates it
    for headers in ({}, {"Follow-Key": "x" * 24}):
        r = client.post(
            f"/api/v1/portal/reports/{tracking}/rating", json={"rating": 1}, headers=headers
        )
        assert r.status_code == 403, headers
    rated = client.post(
        f"/api/v1/portal/reports/{tracking}/rating",
        json={"rating": 4, "comment": "很快就修好了"},
        headers={"Follow-Key": key},
    )
    assert rated.status_code == 200, rated.text
    assert rated.json()["rating"] == 4
    case = store.get_case(case_id)
    assert case is not None
    assert case.rating == 4
    again = client.post(
        f"/api/v1/portal/reports/{tracking}/rating", json={"rating": 1}, headers={"Follow-Key": key}
    )
    assert again.status_code == 409
    assert store.get_case(case_id).rating == 4  # type: ignore[union-attr]


def test_the_reporter_sees_the_photos_both_ways_and_nobody_else_does(portal: Portal) -> None:
    """Issue 17: following a report showed neither the resident's photo nor the
    handler's. The reporter (the follow key) sees both, and the expected date while it
    is open; the tracking number alone, which anyone may read, opens no photo."""
    client, _ = portal
    mine = client.post("/api/v1/portal/photos", content=PNG, headers={"content-type": "image/png"})
    sent = send_report(client, photos=[mine.json()["ref"]])
    tracking, key = sent["tracking"], sent["follow_key"]
    open_ = client.get(f"/api/v1/portal/reports/{tracking}", headers={"Follow-Key": key}).json()
    assert open_["due_at"] is not None  # by when it should be handled
    assert open_["photos"] == {"before": [mine.json()["ref"]], "after": []}
    assert "photos" not in client.get(f"/api/v1/portal/reports/{tracking}").json()
    close_case(client, tracking)
    done = client.get(f"/api/v1/portal/reports/{tracking}", headers={"Follow-Key": key}).json()
    assert done["due_at"] is None  # ended: no date to wait for
    [after] = done["photos"]["after"]  # the handler's, from handling the case
    for ref in (mine.json()["ref"], after):
        path = f"/api/v1/portal/reports/{tracking}/photos/{ref}"
        got = client.get(path, headers={"Follow-Key": key})
        assert got.status_code == 200
        assert got.content == PNG
        assert client.get(path).status_code == 403  # the number alone
        assert client.get(path, headers={"Follow-Key": "x" * 24}).status_code == 403
    # a photo that is not this report's, even one that exists, is not served through it
    other = send_report(
        client,
        photos=[
            client.post(
                "/api/v1/portal/photos",
                content=photo(colour=(10, 200, 10)),
                headers={"content-type": "image/png"},
            ).json()["ref"]
        ],
    )
    theirs = client.get(
        f"/api/v1/portal/reports/{other['tracking']}", headers={"Follow-Key": other["follow_key"]}
    ).json()["photos"]["before"][0]
    r = client.get(
        f"/api/v1/portal/reports/{tracking}/photos/{theirs}", headers={"Follow-Key": key}
    )
    assert r.status_code == 404


def test_a_signed_in_resident_follows_and_rates_without_the_key(portal: Portal) -> None:
    client, _ = portal
    li = bearer(client, "li")
    r = client.post("/api/v1/portal/reports", json={"category": "road", **IN_G0003}, headers=li)
    assert r.status_code == 201, r.text
    tracking = r.json()["tracking"]
    send_report(client)  # someone else's, anonymous
    mine = client.get("/api/v1/portal/mine", headers=li).json()
    assert [m["tracking"] for m in mine] == [tracking]
    assert client.get("/api/v1/portal/mine", headers=bearer(client, "wang")).json() == []
    close_case(client, tracking)
    wang = client.post(
        f"/api/v1/portal/reports/{tracking}/rating",
        json={"rating": 1},
        headers=bearer(client, "wang"),
    )
    assert wang.status_code == 403  # another resident
    ok = client.post(f"/api/v1/portal/reports/{tracking}/rating", json={"rating": 5}, headers=li)
    assert ok.status_code == 200, ok.text


def test_bad_reports_name_the_field_and_the_reason(portal: Portal) -> None:
    client, store = portal
    cases: list[tuple[dict[str, Any], str]] = [
        ({"category": "unicorns", **IN_G0003}, "category"),
        ({"category": "road"}, "lat"),  # nowhere
        ({"category": "road", "lat": 30.305}, "lon"),
        ({"category": "road", "lat": 1.0, "lon": 1.0}, "lat"),  # outside the district
        ({"category": "road", "lat": "NaN", "lon": 120.1}, "lat"),
        ({"category": "road", "text": "x" * 4001, **IN_G0003}, "text"),
        ({"category": "road", "text": "a\x00b", **IN_G0003}, "text"),
        ({"category": "road", "photos": ["sha256-" + "0" * 64 + ".png"], **IN_G0003}, "photos"),
        ({"category": "road", "photos": ["../../etc/passwd"], **IN_G0003}, "photos"),
        ({"category": "road", "reporter_user": "admin", **IN_G0003}, "reporter_user"),
        ({"category": "road", "contact": "no digits", **IN_G0003}, "contact"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/portal/reports", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"].startswith(field), (field, r.json())
    assert not [e for _, e, _ in store.events_after(0) if e.kind == "report.citizen"]
    assert client.get("/api/v1/portal/reports/311-20000101-XXXXXX").status_code == 404


def test_staff_and_stale_sessions_report_like_anyone(portal: Portal) -> None:
    """A member of staff (or a signed-out session) on the same browser is nobody to
    the portal: the report goes in, linked to no account."""
    client, store = portal
    staff = bearer(client, "zhang")
    r = client.post("/api/v1/portal/reports", json={"category": "road", **IN_G0003}, headers=staff)
    assert r.status_code == 201, r.text
    follow = get_follow(store, r.json()["tracking"])
    assert follow is not None
    assert follow.user_id is None
    login = client.post("/api/v1/auth/login", json={"username": "li", "password": PASSWORD})
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": login.json()["csrf_token"]})
    client.cookies.set("cityeye_session", login.json()["token"])  # revoked, still sent
    r = client.post("/api/v1/portal/reports", json={"category": "road", **IN_G0003})
    assert r.status_code == 201, r.text


def test_a_resent_report_is_the_same_report(portal: Portal) -> None:
    """The page makes the follow key and sends it again when the answer was lost: the
    second send answers the first report instead of making another."""
    client, store = portal
    body = {"category": "road", **IN_G0003, "follow_key": "k" * 12 + "-phone-made_1"}
    first = client.post("/api/v1/portal/reports", json=body)
    again = client.post("/api/v1/portal/reports", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["tracking"] == first.json()["tracking"]
    reports = [e for _, e, _ in store.events_after(0) if e.kind == "report.citizen"]
    assert len(reports) == 1
    short = client.post("/api/v1/portal/reports", json=body | {"follow_key": "short"})
    assert short.status_code == 422
    assert short.json()["detail"].startswith("follow_key")


def test_two_ratings_at_once_count_once(portal: Portal) -> None:
    client, store = portal
    sent = send_report(client)
    case_id = close_case(client, sent["tracking"])
    pipeline = client.app.state.pipeline  # type: ignore[attr-defined]
    case = store.get_case(case_id)
    assert case is not None
    seen = CaseBook.version(case)

    def rating(i: int, stars: int) -> Event:
        return Event(
            id=f"rate-{i}",
            kind="case.action",
            ts=case.closed_at,  # type: ignore[arg-type]
            source="portal",
            area=case.area,
            attrs={
                "case": case_id,
                "action": "rate",
                "role": "reporter",
                "rating": stars,
                "note": "评价",
                "if_version": seen,
                "immediate": True,
            },
        )

    pipeline.ingest([rating(1, 5), rating(2, 1)])  # both saw the same version
    final = store.get_case(case_id)
    assert final is not None
    assert final.rating == 5
    assert [e.action for e in final.timeline].count("rate") == 1
    assert final.timeline[-1].note == "居民评价 5 星：评价"  # the comment is kept


def test_a_signed_in_cookie_needs_its_csrf_value(portal: Portal) -> None:
    """A page elsewhere cannot make a signed-in resident report through their cookie."""
    client, _ = portal
    client.post("/api/v1/auth/login", json={"username": "li", "password": PASSWORD})
    r = client.post("/api/v1/portal/reports", json={"category": "road", **IN_G0003})
    assert r.status_code == 403
    client.cookies.clear()
    assert (
        client.post("/api/v1/portal/reports", json={"category": "road", **IN_G0003}).status_code
        == 201
    )


def test_one_address_cannot_flood_reports_or_photos(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'flood.db'}")
    store.save_world(load_world(FIXTURES / "world_small.yaml"))
    pipeline = LivePipeline(store, lateness_s=0)
    now = [0.0]
    reports = Throttle(3, timedelta(hours=1), clock=lambda: now[0])
    photos = Throttle(2, timedelta(hours=1), clock=lambda: now[0])
    # small limits on a clock the test moves, swapped on the app it built
    app = create_app(store, pipeline, wall_clock=False, files=tmp_path / "files")
    app.state.services.report_limits = reports
    app.state.services.photo_limits = photos
    with TestClient(app) as client:
        codes = [
            client.post("/api/v1/portal/reports", json={"category": "road", **IN_G0003}).status_code
            for _ in range(4)
        ]
        assert codes == [201, 201, 201, 429]
        refused = client.post("/api/v1/portal/reports", json={"category": "road", **IN_G0003})
        assert int(refused.headers["retry-after"]) > 0
        pics = [
            client.post(
                "/api/v1/portal/photos", content=PNG, headers={"content-type": "image/png"}
            ).status_code
            for _ in range(3)
        ]
        assert pics == [201, 201, 429]
        bad = client.post(
            "/api/v1/portal/photos", content=b"<svg/>", headers={"content-type": "image/png"}
        )
        assert bad.status_code == 429  # limited before the body is read
        now[0] += 3601
        assert (
            client.post("/api/v1/portal/reports", json={"category": "road", **IN_G0003}).status_code
            == 201
        )
        fake = client.post(
            "/api/v1/portal/photos", content=b"<svg/>", headers={"content-type": "image/png"}
        )
        assert fake.status_code == 422
        assert fake.json()["detail"].startswith("photo")
    reports_stored = [e for _, e, _ in store.events_after(0) if e.kind == "report.citizen"]
    assert len(reports_stored) == 4  # every 201 is stored, nothing refused is
    store.close()


def test_the_map_and_categories_are_public(portal: Portal) -> None:
    client, _ = portal
    shapes = client.get("/api/v1/portal/map").json()
    assert shapes["type"] == "FeatureCollection"
    assert {f["properties"]["code"] for f in shapes["features"]} >= {"G0001", "G0003"}
    codes = [c["code"] for c in client.get("/api/v1/portal/categories").json()]
    assert "road" in codes
    page = client.get("/portal")
    assert page.status_code == 200
    assert "居民随手拍" in page.text
