"""企业走访 in Chromium (issue 21 item 2; tests/browser/visits.mjs drives it): the
包联干部 on a 390×844 phone sees their enterprise with its open warning and the data
behind it, is refused a visit without the person met, then records one with a photo,
a check-in and the warning's outcome; the street's dispatcher sees the list at
1920×1080. Screenshots in Chinese without English words, no sideways scrolling, an
axe scan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cityeye.domain import Event
from cityeye.enterprises.registry import save
from cityeye.store import Store
from cityeye.store import enterprises as db
from kit import photo
from serving import keep_screenshots, run_in_browser, wait_until

PASSWORD = "visits-pass-1234"
PEOPLE = {
    "gw": ("--role", "handler", "--party", "P-GW1", "--name", "张网格员"),
    "xh": ("--role", "dispatcher", "--area", "330105001", "--name", "小河街道干部"),
}
CODE = "91330100716105852F"
LAT, LON = 30.3052, 120.1049  # some 30 m from the enterprise's point


def prepare(url: str) -> None:
    """The enterprise (the world's subject E1), its 包联干部, and the registration
    change that the running engine turns into its relocation warning."""
    store = Store.open(url)
    try:
        world = store.load_world()
        assert world is not None
        now = datetime.now(UTC)
        save(
            store,
            world,
            {
                "credit_code": CODE,
                "name": "杭州示例科技有限公司",
                "area": "G0001",
                "address": "小河路 8 号",
                "contacts": [{"name": "李经理", "phone": "13812341234"}],
                "staff": "gw",
                "risk": "medium",
                "lat": 30.305,
                "lon": 120.105,
            },
            actor="test",
            now=now - timedelta(days=40),
        )
        opened = now - timedelta(hours=5)
        event = Event(
            "reg-1",
            "enterprise.registration_change",
            opened,
            "enterprise-data",
            subject="E1",
            area="G0001",
            attrs={"change": "address", "new_district": "330110", "text": "注册地址迁出至余杭区"},
        )
        store.add_events([event], received_at=opened)
    finally:
        store.close()


def warned(url: str) -> bool:
    store = Store.open(url)
    try:
        return bool(db.warnings(store))
    finally:
        store.close()


def test_the_staff_member_records_a_visit_on_a_phone(tmp_path: Path) -> None:
    picture = tmp_path / "visit.png"
    picture.write_bytes(photo())
    url = f"sqlite:///{tmp_path / 'browser.db'}"  # run_in_browser's database
    report, _ = run_in_browser(
        tmp_path,
        "visits.mjs",
        users=PEOPLE,
        password=PASSWORD,
        prepare=prepare,
        # the engine of `cityeye serve` reads the stored change and raises the warning
        before=lambda _: wait_until(lambda: warned(url), "the relocation warning", 60),
        env={
            "STAFF": "gw",
            "DISPATCHER": "xh",
            "PHOTO": str(picture),
            "LAT": str(LAT),
            "LON": str(LON),
        },
    )
    keep_screenshots(
        tmp_path,
        "visits-phone-list.png",
        "visits-phone-form.png",
        "visits-phone-saved.png",
        "visits-desktop.png",
    )
    assert report["errors"] == [], report["errors"]
    assert report["external"] == []
    assert report["steps"] == ["listed", "opened", "refused", "saved", "desktop"]
    assert report["fits"] is True
    assert report["violations"] == []
    assert report["latin"] == [], report["latin"]  # a Chinese page with no English words
    listed = report["list"]
    assert isinstance(listed, list)
    assert len(listed) == 1
    assert "杭州示例科技有限公司" in listed[0]
    assert "预警 1" in listed[0]  # the engine's relocation warning
    assert "已逾期" in listed[0]  # registered 40 days ago, medium risk: 30 days
    assert "注册地址迁出至余杭区" in str(report["evidence"])
    assert "请填写走访对象" in str(report["refused"])
    assert "走访已记录" in str(report["saved"])
    assert "打卡距企业" in str(report["saved"])
    assert any("已迁出" in v for v in report["visits"])  # type: ignore[union-attr]
    # answered and visited: the dispatcher's list neither counts the warning nor the
    # enterprise overdue any more
    desk = report["desk"]
    assert isinstance(desk, list)
    assert len(desk) == 1
    assert "杭州示例科技有限公司" in desk[0]
    assert "预警" not in desk[0]
    assert "已逾期" not in desk[0]
    title, item = report["english"]  # type: ignore[misc]
    assert title.startswith("My enterprises")
    assert "Due by" in item
    store = Store.open(url)
    try:
        found = db.by_credit_code(store, CODE)
        assert found is not None
        (visit,) = db.visits(store, [found.id])
        (warning,) = db.warnings(store)
        assert warning.scenario == "enterprise.relocation"
        assert (visit.people_met, visit.alert_id, visit.outcome) == (
            "李经理",
            warning.id,
            "relocated",
        )
        assert visit.distance_m is not None
        assert visit.distance_m < 100
        assert len(visit.photos) == 1
        assert visit.problems == "希望协助办理税务迁移"
    finally:
        store.close()
