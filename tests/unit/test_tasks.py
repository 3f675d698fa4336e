"""督办 (issue 19 item 5): the district's task table — seed 003 read, every row accounted
for, exported again in its own layout — units matched to parties by the documented
rule, progress reported by the units (and only by them), overdue tasks, per-unit
figures, each role's boundary tried."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.domain import World
from cityeye.domain.parties import Party, PartyKind
from cityeye.domain.tasks import completion_of
from cityeye.store import Store
from cityeye.store import tasks as db
from cityeye.tasks.supervision import UnitMatcher, import_table
from cityeye.tasks.table import TaskTableError, read_table
from cityeye.world import load_world
from kit import photo

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEED = FIXTURES / "seed_003_tasks.txt"  # a copy of shared/seeds/003_1acf8fc5c8f69d36.txt
SHARED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "003_1acf8fc5c8f69d36.txt"
NOW = datetime(2021, 1, 10, tzinfo=UTC)
HEADER = ["项目名称", "项目内容", "牵头单位", "责任单位", "目前进展情况"]
PASSWORD = "tasks-pass-123"


def world() -> World:
    """The small world with a street office and district departments whose names
    differ from the table's in the ways the matching rule allows."""
    base = load_world(FIXTURES / "world_small.yaml")
    extra = [
        Party("SO-XH", "小河街道办事处", PartyKind.GOVERNMENT, ("330105001",)),
        Party("GOV-SP", "区行政审批办（区审管办）", PartyKind.GOVERNMENT, ("330105",)),
        Party("GOV-MZ", "区民宗局", PartyKind.GOVERNMENT, ("330105",)),
        Party("GOV-ZJ", "区住建局", PartyKind.GOVERNMENT, ("330105",)),
    ]
    return dataclasses.replace(base, parties={**base.parties, **{p.id: p for p in extra}})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'tasks.db'}")
    s.save_world(world())
    yield s
    s.close()


# ------------------------------------------------------------------- seed 003


def test_the_fixture_is_the_seed() -> None:
    if not SHARED.exists():
        pytest.skip("the seeds are not beside this clone")
    assert SEED.read_bytes() == SHARED.read_bytes()


def _rows_in_seed() -> int:
    """The seed's rows counted on its text, not by the reader: each row's first cell
    is a tab line that is empty (the section continues) or opens a numbered section."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    return sum(
        1
        for line in lines
        if line == "\t" or re.fullmatch(r"\t（[一二三四五六七八九十]+）.*", line)
    )


def test_seed_003_imports_every_row_and_exports_with_the_same_sections_and_columns(
    store: Store, tmp_path: Path
) -> None:
    table = read_table(SEED)
    result = import_table(store, world(), table, year=2020, now=NOW)
    rows = _rows_in_seed()
    assert rows == 128
    assert result.rows == rows
    assert result.imported + result.skipped == rows
    assert result.skipped == 0
    # every row naming a unit no party matches is reported with its line
    assert result.with_unknown > 0
    assert all(re.fullmatch(r"seed_003_tasks\.txt:\d+", n.where) for n in result.notices)
    tasks = db.tasks_of(store, 2020)
    assert len(tasks) == rows

    sections = [f"{s.number}{s.title}" for s in table.sections]
    assert len(sections) == 22  # （二十） and （二十一）, printed again on a new page, once
    assert sections[0] == "（一）经济社会发展主要预期目标"
    assert sections[2] == "（三）强化平台项目支撑"  # a title wrapped over two lines
    assert sections[-1] == "（二十二）维护公共安全稳定"

    from cityeye.documents.tables import write_xlsx
    from cityeye.tasks.supervision import export_sheet, export_text

    out = tmp_path / "export.xlsx"
    write_xlsx(export_sheet(db.title(store, 2020) or "", tasks, "Asia/Shanghai"), out)
    sheet = load_workbook(out).active
    values = [
        [c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)
    ]
    assert values[0][0] == "2020年区《政府工作报告》主要目标任务进展情况"
    top = next(i for i, row in enumerate(values) if row[:5] == HEADER)
    body = [row for row in values[top + 1 :] if any(row)]
    assert len(body) == rows
    assert [row[0] for row in body if row[0]] == sections

    # and read back, the export is the same table (both the xlsx and the text layout)
    text = tmp_path / "export.txt"
    text.write_text(
        export_text(db.title(store, 2020) or "", tasks, "Asia/Shanghai"), encoding="utf-8"
    )
    for again in (read_table(out), read_table(text)):
        assert [s.label for s in again.sections] == sections
        assert [(r.content, r.lead, r.units, r.progress) for r in again.rows] == [
            (r.content, r.lead, r.units, r.progress) for r in table.rows
        ]


def test_seed_cells_that_wrap_keep_their_units(store: Store) -> None:
    table = read_table(SEED)
    by_content = {row.content: row for row in table.rows}
    assert by_content["环境保护确保完成市下达目标任务"].lead == ["生态环境拱墅分局"]
    assert by_content["引进外籍非华裔人才项目10个以上"].lead == ["区科技工业区管委会"]
    assert by_content["申报市级高层次人才50人以上"].lead == ["区委人才办", "区人力社保局"]


def test_completion_is_read_where_the_text_states_one(store: Store) -> None:
    import_table(store, world(), read_table(SEED), year=2020, now=NOW)
    tasks = {task.content: task for task in db.tasks_of(store, 2020)}
    # "…覆盖餐饮场所66个，完成率132%。“住安保”…完成率100%": the first one stated
    safety = next(t for t in tasks.values() if "完成率132%" in t.progress)
    assert safety.completion == pytest.approx(1.32)
    assert safety.done
    assert tasks["开工配套项目20个"].completion == pytest.approx(1.15)
    assert tasks["地区生产总值增长6.5%以上"].completion is None  # 全年数据未出
    assert not tasks["地区生产总值增长6.5%以上"].done
    assert tasks["财政收入与经济增长基本同步"].done  # 已完成
    # a rate that is not the task's completion is not taken for one
    assert completion_of("大气环境优良率91.5%，同比上升15.9%") is None


def test_units_match_exactly_then_by_the_normalised_name() -> None:
    matcher = UnitMatcher(world())
    assert matcher.match("区城管局").how == "exact"
    assert (matcher.match("小河街道").party_id, matcher.match("小河街道").how) == (
        "SO-XH",
        "normalised",
    )
    assert matcher.match("区行政审批办").party_id == "GOV-SP"
    assert matcher.match("区委统战部（区民宗局）").party_id == "GOV-MZ"
    assert matcher.match("拱墅区住建局").party_id == "GOV-ZJ"
    assert matcher.match("各街道").how == "group"
    assert matcher.match("区发改经信局").how == "unknown"


def test_a_csv_table_reports_unknown_units_and_skipped_rows_by_line(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "督办.csv"
    path.write_text(
        "2021年督办事项\n"
        "项目名称,项目内容,牵头单位,责任单位,目前进展情况,截止日期\n"
        '（一）城市管理,新建公厕12座,区城管局,"区城管局、小河街道",完成率50%,2021-06-30\n'
        ",创建美丽河道,区城管局,区火星局,,2021-13-01\n"
        ",,区城管局,区城管局,,\n",
        encoding="utf-8",
    )
    result = import_table(store, world(), read_table(path), year=2021, now=NOW)
    assert (result.rows, result.imported, result.with_unknown, result.skipped) == (3, 2, 1, 1)
    lines = [n.render() for n in result.notices]
    assert "督办.csv:4: 责任单位: 区火星局: matches no party of the world" in lines
    assert any(line.startswith("督办.csv:4: 截止日期:") for line in lines)
    assert "督办.csv:5: 项目内容: empty: row skipped" in lines
    first = db.tasks_of(store, 2021)[0]
    assert first.party_ids == ("P-CG", "SO-XH")
    assert first.due_at == datetime(2021, 6, 30, 16, tzinfo=UTC)  # the end of the day in 杭州
    # exported, the deadline reads as the day it was given, and is read back so
    from cityeye.documents.tables import write_xlsx
    from cityeye.tasks.supervision import export_sheet

    out = tmp_path / "again.xlsx"
    write_xlsx(export_sheet("2021年督办事项", db.tasks_of(store, 2021), "Asia/Shanghai"), out)
    again = read_table(out)
    assert [(r.content, r.deadline) for r in again.rows] == [
        ("新建公厕12座", "2021-06-30"),
        ("创建美丽河道", ""),
    ]


def test_a_file_without_the_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(TaskTableError, match="header"):
        read_table(path)


def test_a_year_is_imported_once_unless_replaced(store: Store) -> None:
    from cityeye.errors import ConflictError

    import_table(store, world(), read_table(SEED), year=2020, now=NOW)
    with pytest.raises(ConflictError):
        import_table(store, world(), read_table(SEED), year=2020, now=NOW)
    import_table(store, world(), read_table(SEED), year=2020, now=NOW, replace=True)
    assert len(db.tasks_of(store, 2020)) == 128


# ------------------------------------------------------------------------ API

USERS = {
    "district": {"role": "dispatcher", "areas": ("330105",)},
    "street": {"role": "dispatcher", "areas": ("330105001",)},
    "boss": {"role": "leader", "areas": ("330105",)},
    "cg": {"role": "handler", "party_id": "P-CG"},  # 区城管局
    "sp": {"role": "handler", "party_id": "GOV-SP"},  # 区行政审批办
    "root": {"role": "admin"},
    "wang": {"role": "resident"},
}


@pytest.fixture
def client(store: Store, tmp_path: Path) -> Iterator[TestClient]:
    path = tmp_path / "t.csv"
    path.write_text(
        "2021年督办事项\n"
        "项目名称,项目内容,牵头单位,责任单位,目前进展情况\n"
        '（一）城市管理,新建公厕12座,区城管局,"区城管局、小河街道",推进中\n'
        "（二）政务服务,一件事联办,区行政审批办,区行政审批办,推进中\n",
        encoding="utf-8",
    )
    import_table(store, world(), read_table(path), year=2021, now=NOW)
    for name, spec in USERS.items():
        create_user(store, world(), username=name, password=PASSWORD, **spec)  # type: ignore[arg-type]
    with TestClient(create_app(store, files=tmp_path / "files")) as c:
        yield c


def auth(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_a_unit_sees_and_reports_on_its_own_tasks_only(client: TestClient) -> None:
    cg, sp = auth(client, "cg"), auth(client, "sp")
    mine = client.get("/api/v1/tasks", headers=cg).json()["tasks"]
    assert [t["content"] for t in mine] == ["新建公厕12座"]
    ref = client.post(
        "/api/v1/attachments", content=photo(), headers={**cg, "Content-Type": "image/png"}
    ).json()["ref"]
    r = client.post(
        "/api/v1/tasks/2021-001/reports",
        json={"text": "完工8座，完成率67%", "photos": [ref]},
        headers=cg,
    )
    assert r.status_code == 201, r.text
    assert r.json()["completion"] == pytest.approx(0.67)
    task = client.get("/api/v1/tasks/2021-001", headers=cg).json()
    assert task["progress"] == "完工8座，完成率67%"
    assert task["reports"][0]["photos"] == [ref]
    # across the boundary: another unit's task is not there for this unit
    assert (
        client.post("/api/v1/tasks/2021-002/reports", json={"text": "完成"}, headers=cg).status_code
        == 404
    )
    assert client.get("/api/v1/tasks/2021-001", headers=sp).status_code == 404
    # a photo that was never uploaded is refused, by name
    r = client.post(
        "/api/v1/tasks/2021-001/reports",
        json={"text": "x", "photos": ["sha256-" + "0" * 64 + ".png"]},
        headers=cg,
    )
    assert r.status_code == 422
    assert "photos[0]" in r.json()["detail"]
    # a unit sets no deadline and sees no other unit's figures
    assert (
        client.patch("/api/v1/tasks/2021-001", json={"due": "2021-01-01"}, headers=cg).status_code
        == 403
    )
    assert client.get("/api/v1/tasks/stats?by=unit", headers=cg).status_code == 403


def test_staff_set_deadlines_leaders_read_and_overdue_tasks_are_listed(
    client: TestClient,
) -> None:
    district, street, boss = auth(client, "district"), auth(client, "street"), auth(client, "boss")
    cg, resident = auth(client, "cg"), auth(client, "wang")
    # a street's dispatcher and a leader read but set nothing; a resident is not let in
    assert (
        client.patch(
            "/api/v1/tasks/2021-001", json={"due": "2020-12-31"}, headers=street
        ).status_code
        == 403
    )
    assert (
        client.patch("/api/v1/tasks/2021-001", json={"due": "2020-12-31"}, headers=boss).status_code
        == 403
    )
    assert client.get("/api/v1/tasks", headers=resident).status_code == 403
    assert (
        client.post(
            "/api/v1/tasks/2021-001/reports", json={"text": "看过"}, headers=boss
        ).status_code
        == 403
    )
    r = client.patch("/api/v1/tasks/2021-001", json={"due": "2021-13-40"}, headers=district)
    assert r.status_code == 422
    assert r.json()["detail"].startswith("due:")
    for task_id in ("2021-001", "2021-002"):
        r = client.patch(
            f"/api/v1/tasks/{task_id}",
            json={"target": "12座", "due": "2020-12-31"},
            headers=district,
        )
        assert r.status_code == 200, r.text
    late = client.get("/api/v1/tasks/overdue", headers=boss).json()["tasks"]
    assert [t["id"] for t in late] == ["2021-001", "2021-002"]
    # a unit's report of completion takes its task off the list
    r = client.post("/api/v1/tasks/2021-001/reports", json={"text": "已完成"}, headers=cg)
    assert r.json()["done"] is True
    late = client.get("/api/v1/tasks/overdue", headers=boss).json()["tasks"]
    assert [t["id"] for t in late] == ["2021-002"]
    rows = {
        r["unit"]: r for r in client.get("/api/v1/tasks/stats?by=unit", headers=boss).json()["rows"]
    }
    assert (rows["区城管局"]["tasks"], rows["区城管局"]["done"], rows["区城管局"]["overdue"]) == (
        1,
        1,
        0,
    )
    assert rows["区行政审批办（区审管办）"]["overdue"] == 1
    assert rows["小河街道办事处"]["done"] == 1


def test_the_table_exports_as_xlsx_with_its_columns(client: TestClient) -> None:
    boss = auth(client, "boss")
    r = client.get("/api/v1/tasks/export?format=xlsx", headers=boss)
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    top = next(i for i, row in enumerate(values) if list(row[:5]) == HEADER)
    assert [row[0] for row in values[top + 1 :]] == ["（一）城市管理", "（二）政务服务"]
    assert (
        client.get("/api/v1/tasks/export?format=xlsx", headers=auth(client, "cg")).status_code
        == 403
    )


# ------------------------------------------------------------------------ CLI


def test_the_commands_import_count_and_export_the_seed(store: Store, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cityeye.cli import app

    runner = CliRunner()
    url = str(store.engine.url)
    result = runner.invoke(app, ["tasks", "import", str(SEED), "--db", url])
    assert result.exit_code == 1, result.output  # some units match no party of the small world
    assert "128 rows 行: 128 imported" in result.stdout
    assert "seed_003_tasks.txt:13: 牵头单位: 区发改经信局: matches no party" in result.output
    again = runner.invoke(app, ["tasks", "import", str(SEED), "--db", url])
    assert again.exit_code == 2  # the year is there already
    out = tmp_path / "export.xlsx"
    result = runner.invoke(app, ["tasks", "export", str(out), "--db", url])
    assert result.exit_code == 0, result.output
    assert len(read_table(out).rows) == 128
    assert runner.invoke(app, ["tasks", "overdue", "--db", url]).exit_code == 0  # no deadlines


def test_an_xlsx_with_merged_section_cells_and_a_wrapped_header(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.append(["2021年督办事项"])
    ws.append(["项目\n名称", "项目内容", "牵头单位", "责任单位", "目前进展\n情况"])
    ws.append(["（一）城市管理", "新建公厕12座", "区城管局", "区城管局、\n小河街道", "完成率50%"])
    ws.append([None, "创建美丽河道", "区城管局", "各街道", "已完成"])
    ws.append(["（二）政务服务", "一件事联办", "区行政审批办", "区行政审批办", ""])
    ws.merge_cells("A3:A4")  # the section's cell spans its rows, as the district's sheet has it
    path = tmp_path / "督办.xlsx"
    book.save(path)
    table = read_table(path)
    assert table.title == "2021年督办事项"
    assert [s.label for s in table.sections] == ["（一）城市管理", "（二）政务服务"]
    assert [(r.section.title if r.section else None, r.where) for r in table.rows] == [
        ("城市管理", "督办.xlsx:3"),
        ("城市管理", "督办.xlsx:4"),
        ("政务服务", "督办.xlsx:5"),
    ]
    assert table.rows[0].units == ["区城管局", "小河街道"]
