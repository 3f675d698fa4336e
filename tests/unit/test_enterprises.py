"""小河网驿 (issue 21 items 1, 2, 4): the key-enterprise registry with its checked credit
codes, masked contacts, history and import; visits with their check-in, the plan that
brings a warned enterprise forward, overdue lists and coverage; warnings as visit tasks
whose outcome is counted per scenario, with their evidence; each boundary tried."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from openpyxl import Workbook
from sqlalchemy import update

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.domain import Alert, Area, AreaLevel, Event, Severity, Subject, World
from cityeye.domain.enterprises import (
    Enterprise,
    RiskLevel,
    check_credit_code,
    credit_check_char,
    credit_code_problem,
    next_due,
)
from cityeye.enterprises.registry import import_file
from cityeye.errors import FieldError, ProblemsError
from cityeye.store import Store, tables
from cityeye.store import enterprises as db
from cityeye.store.users import list_users
from cityeye.world import load_world
from kit import photo

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "enterprise-pass-1"
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
#: Real enterprises' published codes (阿里巴巴（中国）有限公司, 华为技术有限公司,
#: 深圳市腾讯计算机系统有限公司): the standard's check character must accept them.
REAL = ("91330100716105852F", "914403001922038216", "9144030071526726XG")


def code(prefix: str) -> str:
    """A well-formed code: 17 characters and the check character they give."""
    return prefix + credit_check_char(prefix)


A, B, C = code("91330105MA2H3K0A1"), code("91330105MA27Y8PQ4"), code("92330105MA2KXLN03")


# ------------------------------------------------------------------ credit codes


@pytest.mark.parametrize("good", REAL)
def test_real_credit_codes_pass_the_check(good: str) -> None:
    assert credit_code_problem(good) is None
    assert check_credit_code(f" {good.lower()} ") == good  # spaces and case forgiven


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("91330100716105852", "18 characters"),
        ("91330100716105852FF", "18 characters"),
        ("91330100716105852E", "check character is E but the first 17 give F"),
        ("91330100716105853F", "check character"),  # one digit mistyped
        ("91330100716I05852F", "outside GB 32100-2015's set (I;"),
        ("9133O100716105852F", "outside"),  # the letter O for a zero
        ("91AB0100716105852F", "行政区划码"),
    ],
)
def test_a_wrong_credit_code_is_refused_naming_the_field_and_why(bad: str, says: str) -> None:
    with pytest.raises(FieldError) as caught:
        check_credit_code(bad)
    assert caught.value.field == "credit_code"
    assert says in caught.value.reason


def test_every_single_character_change_is_caught() -> None:
    """The check character catches any one character changed (the point of it)."""
    good = REAL[0]
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for i in range(17):
        for c in chars:
            if c != good[i]:
                changed = good[:i] + c + good[i + 1 :]
                if changed[2:8].isdigit():
                    assert credit_code_problem(changed) is not None, changed


# ------------------------------------------------------------------ the plan


def test_a_warning_brings_the_next_visit_forward() -> None:
    e = Enterprise("QY-1", A, "x", "G0001", risk=RiskLevel.LOW, created_at=NOW)
    visited = NOW
    assert next_due(e, visited, []) == visited + timedelta(days=90)
    warned = NOW + timedelta(days=10)
    assert next_due(e, visited, [warned]) == warned + timedelta(days=3)
    # a warning answered by a later visit no longer counts
    assert next_due(e, warned + timedelta(days=1), [warned]) == warned + timedelta(days=91)
    high = dataclasses.replace(e, risk=RiskLevel.HIGH)
    assert next_due(high, visited, []) == visited + timedelta(days=14)


# ------------------------------------------------------------------ the API


class FixedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def world() -> World:
    """The small world (小河街道) and a second street, 大关街道, with one grid."""
    base = load_world(FIXTURES / "world_small.yaml")
    extra = [
        Area("330105002", "大关街道", AreaLevel.STREET, "330105"),
        Area("330105002001", "大关社区", AreaLevel.COMMUNITY, "330105002"),
        Area("G0101", "大关社区第1网格", AreaLevel.GRID, "330105002001"),
    ]
    # an enterprise subject the world file knows by its credit code (named otherwise)
    e2 = Subject("E2", "G0003", ("enterprise",), "示例集团", {"credit_code": C})
    return dataclasses.replace(
        base,
        areas={**base.areas, **{a.code: a for a in extra}},
        subjects={**base.subjects, "E2": e2},
    )


USERS = {
    "root": {"role": "admin"},
    "xh": {"role": "dispatcher", "areas": ("330105001",), "display_name": "小河街道干部"},
    "dg": {"role": "dispatcher", "areas": ("330105002",)},
    "boss": {"role": "leader", "areas": ("330105001",)},
    "gw": {"role": "handler", "party_id": "P-GW1", "display_name": "张网格员"},
    "cg": {"role": "handler", "party_id": "P-CG"},
    "wang": {"role": "resident"},
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'e.db'}")
    s.save_world(world())
    for name, spec in USERS.items():
        create_user(s, world(), username=name, password=PASSWORD, **spec)  # type: ignore[arg-type]
    yield s
    s.close()


@pytest.fixture
def client(store: Store, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(store, files=tmp_path / "files", clock=FixedClock(NOW))) as c:
        yield c


def auth(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def register(client: TestClient, headers: dict[str, str], **fields: object) -> dict[str, object]:
    body = {
        "credit_code": A,
        "name": "杭州示例科技有限公司",
        "area": "G0001",
        "sector": "软件和信息技术服务业",
        "size": "小型",
        "contacts": [{"name": "李经理", "phone": "13812341234", "role": "办公室主任"}],
        "staff": "gw",
        "risk": "medium",
        "lat": 30.305,
        "lon": 120.105,
    } | fields
    r = client.post("/api/v1/enterprises", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_street_registers_an_enterprise_and_lists_its_contacts_masked(
    client: TestClient,
) -> None:
    xh = auth(client, "xh")
    made = register(client, xh)
    assert made["credit_code"] == A
    assert made["staff_name"] == "张网格员"
    assert made["subject"] == "E1"  # the world's enterprise subject of the same name
    assert made["visit_interval_days"] == 30
    listed = client.get("/api/v1/enterprises", headers=xh).json()["enterprises"]
    assert [e["name"] for e in listed] == ["杭州示例科技有限公司"]
    assert listed[0]["contacts"][0]["phone"] == "138****1234"
    assert "13812341234" not in client.get("/api/v1/enterprises", headers=xh).text
    # the 包联干部 sees the whole number on the enterprise's own page, to call
    one = client.get(f"/api/v1/enterprises/{made['id']}", headers=auth(client, "gw")).json()
    assert one["contacts"][0]["phone"] == "13812341234"
    assert one["may_visit"] is True


def test_the_world_subject_is_found_by_credit_code_before_name(client: TestClient) -> None:
    """The warnings key on the world's subject: a code the world file gives links even
    under another name; a name alone links when no code does."""
    xh = auth(client, "xh")
    by_code = register(client, xh, credit_code=C, name="示例集团有限公司", area="G0003", staff="xh")
    assert by_code["subject"] == "E2"
    unknown = register(client, xh, credit_code=B, name="无名公司", area="G0003", staff="xh")
    assert unknown["subject"] is None


def test_a_bad_registration_names_its_field(client: TestClient) -> None:
    xh = auth(client, "xh")
    wrong = A[:-1] + ("0" if A[-1] != "0" else "1")
    for body, field in [
        ({"credit_code": wrong}, "credit_code"),
        ({"area": "G9999"}, "area"),
        ({"staff": "dg"}, "staff"),  # 大关's dispatcher does not serve 小河's grid
        ({"staff": "wang"}, "staff"),  # a resident is no 包联干部
        ({"size": "huge"}, "size"),
        ({"contacts": [{"name": "李", "phone": "call me"}]}, "contacts[0].phone"),
        ({"lat": 30.3, "lon": None}, "lon"),
    ]:
        r = client.post(
            "/api/v1/enterprises",
            json={"credit_code": A, "name": "x", "area": "G0001"} | body,
            headers=xh,
        )
        assert r.status_code == 422, (body, r.text)
        assert field in r.text, (body, r.text)
    register(client, xh)
    again = client.post(
        "/api/v1/enterprises", json={"credit_code": A, "name": "y", "area": "G0001"}, headers=xh
    )
    assert again.status_code == 422
    assert "registered already" in again.text


def test_each_change_is_in_the_history_with_who_and_when(client: TestClient) -> None:
    xh = auth(client, "xh")
    made = register(client, xh)
    url = f"/api/v1/enterprises/{made['id']}"
    r = client.patch(url, json={"risk": "high", "address": "小河路 1 号"}, headers=xh)
    assert r.status_code == 200, r.text
    assert r.json()["visit_interval_days"] == 14
    same = client.patch(url, json={"risk": "high"}, headers=xh)  # nothing changes
    assert same.status_code == 200
    for cleared in ("credit_code", "name", "area"):
        r = client.patch(url, json={cleared: None}, headers=xh)
        assert r.status_code == 422, r.text
        assert f"{cleared}: is required" in r.text
    changes = client.get(f"{url}/history", headers=xh).json()["changes"]
    assert len(changes) == 2
    created, changed = changes
    assert created["fields"]["name"] == {"before": None, "after": "杭州示例科技有限公司"}
    assert created["fields"]["contacts"]["after"][0]["phone"] == "138****1234"
    assert changed["fields"] == {
        "address": {"before": "", "after": "小河路 1 号"},
        "risk": {"before": "medium", "after": "high"},
    }
    assert changed["actor_name"] == "小河街道干部"
    assert changed["at"].startswith("2026-11-20T02:00")


def test_each_boundary_of_the_registry(client: TestClient) -> None:
    xh = auth(client, "xh")
    made = register(client, xh)
    url = f"/api/v1/enterprises/{made['id']}"
    dg, boss, cg, wang = (auth(client, u) for u in ("dg", "boss", "cg", "wang"))
    assert client.get(url).status_code == 401  # signed out
    assert client.get(url, headers=dg).status_code == 404  # another street's dispatcher
    assert client.get(url, headers=cg).status_code == 404  # a handler not responsible
    assert client.get(url, headers=wang).status_code == 403  # a resident
    assert client.get("/api/v1/enterprises", headers=dg).json()["enterprises"] == []
    assert (
        client.get("/api/v1/enterprises", params={"area": "G0001"}, headers=dg).status_code == 404
    )
    assert client.get(url, headers=boss).status_code == 200  # a leader reads …
    assert client.patch(url, json={"risk": "low"}, headers=boss).status_code == 403  # … only
    assert client.patch(url, json={"risk": "low"}, headers=dg).status_code == 404
    gw = auth(client, "gw")
    assert client.patch(url, json={"risk": "low"}, headers=gw).status_code == 403
    # a dispatcher cannot register into another street, nor move one there
    far = {"credit_code": B, "name": "大关某公司", "area": "G0101"}
    assert client.post("/api/v1/enterprises", json=far, headers=xh).status_code == 404
    assert client.patch(url, json={"area": "G0101"}, headers=xh).status_code == 404
    assert client.post("/api/v1/enterprises", json=far, headers=dg).status_code == 201


def _visit(client: TestClient, headers: dict[str, str], eid: str, **body: object) -> Response:
    payload = {"people_met": "李经理", "situation": "经营正常，订单充足"} | body
    return client.post(f"/api/v1/enterprises/{eid}/visits", json=payload, headers=headers)


def test_a_visit_records_its_check_in_and_photos(client: TestClient) -> None:
    xh = auth(client, "xh")
    eid = str(register(client, xh)["id"])
    gw = auth(client, "gw")
    ref = client.post(
        "/api/v1/attachments", content=photo(), headers=gw | {"content-type": "image/png"}
    ).json()["ref"]
    r = _visit(client, gw, eid, problems="用工缺口 20 人", photos=[ref], lat=30.3051, lon=120.1052)
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["distance_m"] is not None
    assert v["distance_m"] < 50
    assert v["far"] is False
    assert v["visitor_name"] == "张网格员"
    far = _visit(client, gw, eid, lat=30.33, lon=120.13).json()
    assert far["far"] is True  # some 3.7 km away: flagged
    for body, field in [
        ({"people_met": " "}, "people_met"),
        ({"lat": 30.3}, "lon"),
        ({"photos": ["https://example.com/x.png"]}, "photos[0]"),
        ({"outcome": "resolved"}, "outcome"),
        ({"alert_id": "nope"}, "alert_id"),
        ({"at": "2026-12-25T10:00:00+08:00"}, "at"),
    ]:
        bad = _visit(client, gw, eid, **body)
        assert bad.status_code == 422, (body, bad.text)
        assert field in bad.text
    visits = client.get(f"/api/v1/enterprises/{eid}/visits", headers=xh).json()["visits"]
    assert len(visits) == 2
    assert _visit(client, auth(client, "boss"), eid).status_code == 403
    assert _visit(client, auth(client, "dg"), eid).status_code == 404
    assert _visit(client, xh, eid).status_code == 201


def test_overdue_visits_and_coverage_per_staff_and_street(client: TestClient, store: Store) -> None:
    xh = auth(client, "xh")
    first = str(register(client, xh)["id"])
    second = str(
        register(client, xh, credit_code=B, name="小河二号公司", area="G0003", staff="xh")["id"]
    )
    # both registered 60 days ago: the medium-risk one (30 days) is overdue
    with store.engine.begin() as conn:
        conn.execute(update(tables.enterprises).values(created_at=NOW - timedelta(days=60)))
    client.patch(f"/api/v1/enterprises/{second}", json={"risk": "low"}, headers=xh)
    due = client.get("/api/v1/enterprises/visits/due", headers=xh).json()
    assert [e["id"] for e in due["overdue"]] == [first]
    assert due["by_staff"] == [
        {"staff": due["overdue"][0]["staff"], "staff_name": "张网格员", "overdue": 1}
    ]
    assert _visit(client, auth(client, "gw"), first).status_code == 201
    assert client.get("/api/v1/enterprises/visits/due", headers=xh).json()["overdue"] == []
    cov = client.get(
        "/api/v1/enterprises/visits/coverage",
        params={"from": "2026-11-01", "to": "2026-11-30"},
        headers=xh,
    ).json()
    # due this month: the first (30 days after registration); the low-risk one is not
    assert cov["total"] | {"key": None} == {
        "key": None,
        "name": None,
        "enterprises": 2,
        "due": 1,
        "visited_due": 1,
        "visited": 1,
        "visits": 1,
        "rate": 1.0,
    }
    assert [s["name"] for s in cov["streets"]] == ["小河街道"]
    bad = client.get(
        "/api/v1/enterprises/visits/coverage",
        params={"from": "2026-11-30", "to": "2026-11-01"},
        headers=xh,
    )
    assert bad.status_code == 422
    assert "to" in bad.text
    other = client.get(
        "/api/v1/enterprises/visits/coverage", params={"area": "G0001"}, headers=auth(client, "dg")
    )
    assert other.status_code == 404


def test_a_warning_is_a_visit_task_whose_outcome_is_counted(
    client: TestClient, store: Store
) -> None:
    xh = auth(client, "xh")
    eid = str(register(client, xh)["id"])
    opened = NOW - timedelta(days=1)
    evidence = Event(
        "ev-1",
        "enterprise.registration_change",
        opened,
        "enterprise-data",
        subject="E1",
        area="G0001",
        attrs={"change": "address", "new_district": "330110", "text": "注册地址迁出至余杭区"},
    )
    store.add_events([evidence], received_at=opened)
    store.save_alert(
        Alert(
            "AL-1",
            "enterprise.relocation",
            "E1",
            Severity.HIGH,
            opened,
            event_ids=["ev-1"],
            area="G0001",
        )
    )
    store.save_alert(  # another enterprise's warning (not in the registry): no task
        Alert("AL-2", "enterprise.relocation", "E9", Severity.HIGH, opened, area="G0003")
    )
    tasks = client.get("/api/v1/enterprises/warnings", headers=xh).json()["warnings"]
    assert [t["alert"]["id"] for t in tasks] == ["AL-1"]
    task = tasks[0]
    assert task["status"] == "pending"
    assert task["staff_name"] == "张网格员"
    assert task["evidence"][0]["attrs"]["text"] == "注册地址迁出至余杭区"
    # the warning made the medium-risk enterprise due 3 days after it opened
    one = client.get(f"/api/v1/enterprises/{eid}", headers=xh).json()
    assert one["due_at"] == "2026-11-22T02:00:00+00:00"
    assert client.get("/api/v1/enterprises/warnings", headers=auth(client, "dg")).json() == {
        "warnings": []
    }
    gw = auth(client, "gw")
    r = _visit(client, gw, eid, alert_id="AL-1", outcome="relocated", situation="已搬至余杭")
    assert r.status_code == 201, r.text
    done = client.get("/api/v1/enterprises/warnings", headers=xh).json()["warnings"][0]
    assert (done["status"], done["outcome"]) == ("done", "relocated")
    stats = client.get("/api/v1/enterprises/warnings/stats", headers=xh).json()["scenarios"]
    assert stats["enterprise.relocation"] == {
        "warnings": 1,
        "pending": 0,
        "lapsed": 0,
        "resolved": 0,
        "confirmed": 0,
        "relocated": 1,
    }
    assert (
        client.get("/api/v1/enterprises/warnings/stats", headers=auth(client, "wang")).status_code
        == 403
    )


# ------------------------------------------------------------------ the import


def test_an_import_reports_each_bad_row_and_keeps_the_rest(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "名录.csv"
    path.write_text(
        "小河街道重点企业名录\n"
        "统一社会信用代码,企业名称,所在网格,行业,规模,联系人,联系电话,包联干部,风险等级\n"
        f"{A},杭州示例科技有限公司,长征桥社区第1网格,软件,小型,李经理,13812341234,gw,中风险\n"
        f"{B[:-1]}Q,错码公司,G0001,,,,,,\n"
        f"{C},无网格公司,不存在的网格,,,,,,\n"
        f"{code('91330105MA2J0000X')},好公司,G0003,,巨型,,,,\n"
        f"{A},重复行公司,G0001,,,,,,\n",
        encoding="gb18030",
    )
    result = import_file(store, world(), path, now=NOW)
    assert (result.rows, result.created, result.skipped) == (5, 1, 4)
    lines = [p.render(path.name) for p in result.problems]
    assert lines[0].startswith("名录.csv:4: 统一社会信用代码: check character is Q")
    assert lines[1].startswith("名录.csv:5: 所在网格: no area '不存在的网格'")
    assert lines[2].startswith("名录.csv:6: 规模: '巨型' is not one of")
    assert lines[3].startswith("名录.csv:7: 统一社会信用代码:")
    assert "row 3" in lines[3]
    found = db.by_credit_code(store, A)
    assert found is not None
    assert (found.area, found.risk, found.contacts[0].phone) == (
        "G0001",
        RiskLevel.MEDIUM,
        "13812341234",
    )
    assert db.history(store, found.id)[0].actor == "import:名录.csv"
    # the same sheet again: the known codes update, nothing duplicates
    again = import_file(store, world(), path, now=NOW)
    assert (again.created, again.unchanged, again.skipped) == (0, 1, 4)


def test_an_xlsx_import_and_a_sheet_without_the_header(store: Store, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["统一社会信用代码", "企业名称", "所在网格", "标签"])
    sheet.append([REAL[0], "阿里巴巴（中国）有限公司", "G0003", "上市、总部"])
    path = tmp_path / "e.xlsx"
    book.save(path)
    result = import_file(store, world(), path, now=NOW)
    assert (result.created, result.skipped) == (1, 0)
    found = db.by_credit_code(store, REAL[0])
    assert found is not None
    assert found.tags == ("上市", "总部")
    empty = tmp_path / "x.csv"
    empty.write_text("名称,地址\n甲,乙\n", encoding="utf-8")
    with pytest.raises(ProblemsError) as caught:
        import_file(store, world(), empty, now=NOW)
    assert "统一社会信用代码" in str(caught.value)


def test_the_import_command_says_each_bad_row_and_exits_1(store: Store, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cityeye.cli import app

    path = tmp_path / "名录.csv"
    path.write_text(
        f"统一社会信用代码,企业名称,所在网格\n{A},甲公司,G0001\n{A[:-1]}Q,乙公司,G0001\n",
        encoding="utf-8",
    )
    url = str(store.engine.url)
    r = CliRunner().invoke(app, ["enterprises", "import", str(path), "--db", url])
    assert r.exit_code == 1, r.output
    assert "名录.csv:3: 统一社会信用代码: check character is Q" in r.output
    assert "1 created 新增" in r.output
    listed = CliRunner().invoke(app, ["enterprises", "list", "--db", url])
    assert "甲公司" in listed.output


def test_the_daily_reminder_tells_each_staff_member_of_their_overdue_visits(
    client: TestClient, store: Store
) -> None:
    from cityeye.routine.reminders import VISITS, reminders

    xh = auth(client, "xh")
    register(client, xh)  # gw's, medium risk: due 30 days after registration
    day = NOW.date()
    assert not [n for n in reminders(store, world(), NOW, day) if n.text and "走访" in n.text]
    later = NOW + timedelta(days=31)
    (notice,) = [n for n in reminders(store, world(), later, later.date()) if n.user]
    gw = next(u for u in list_users(store) if u.username == "gw")
    assert notice.user == gw.id
    assert "逾期未走访企业 1 家" in notice.text
    assert notice.url == VISITS  # nothing else due: the reminder opens the visits page


def test_the_quality_page_counts_what_the_visits_found(store: Store, tmp_path: Path) -> None:
    """质量统计's scenario rows carry each enterprise scenario's visit outcomes."""
    from cityeye.live.pipeline import LivePipeline

    pipeline = LivePipeline(store, lateness_s=0)
    app = create_app(store, pipeline, wall_clock=False, clock=FixedClock(NOW))
    with TestClient(app) as client:
        xh = auth(client, "xh")
        eid = str(register(client, xh)["id"])
        opened = NOW - timedelta(days=2)
        store.save_alert(
            Alert("AL-9", "enterprise.abnormal", "E1/revenue", Severity.MEDIUM, opened)
        )
        r = _visit(client, auth(client, "gw"), eid, alert_id="AL-9", outcome="confirmed")
        assert r.status_code == 201
        rows = client.get(
            "/api/v1/quality/scenarios", params={"area": "330105001"}, headers=xh
        ).json()["rows"]
        (row,) = [r for r in rows if r["scenario"] == "enterprise.abnormal"]
        assert row["visits"] | {"warnings": 1} == {
            "warnings": 1,
            "pending": 0,
            "lapsed": 0,
            "resolved": 0,
            "confirmed": 1,
            "relocated": 0,
        }
        other = client.get(
            "/api/v1/quality/scenarios", params={"area": "330105001002"}, headers=xh
        ).json()["rows"]
        assert all(r["scenario"] != "enterprise.abnormal" for r in other)  # G0001 is not there
