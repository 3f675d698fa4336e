"""`cityeye import hotline`: a 12345 export (CSV or XLSX) with a column mapping becomes
``report.hotline`` events; every bad row is named by its row number, a rerun adds
nothing, and a caller's phone number is never stored whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from cityeye.cli import app
from cityeye.domain import AreaLevel, Event
from cityeye.ingest.hotline import (
    HotlineError,
    HotlineMapping,
    ImportResult,
    import_sheet,
    load_mapping,
    mask_numbers,
    mask_phone,
    parse_mapping,
    parse_time,
    read_sheet,
)
from cityeye.live.pipeline import LivePipeline
from cityeye.store import Store
from cityeye.world import load_world

REPO = Path(__file__).resolve().parent.parent.parent
FIXTURES = REPO / "tests" / "fixtures"
EXAMPLE_MAP = REPO / "docs" / "examples" / "hotline-mapping.yaml"
EXAMPLE_CSV = REPO / "docs" / "examples" / "hotline-sample.csv"
CST = timezone(timedelta(hours=8))
HEADER = ["工单编号", "受理时间", "诉求类别", "诉求内容", "所属社区", "来电号码"]
MAPPING: dict[str, Any] = {
    "columns": {
        "id": "工单编号",
        "time": "受理时间",
        "text": "诉求内容",
        "category": "诉求类别",
        "area": "所属社区",
        "phone": "来电号码",
    },
    "categories": {"垃圾": "garbage", "噪音扰民": "noise", "道路": "road"},
}
runner = CliRunner()


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    text = "\r\n".join(",".join(cells) for cells in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def tickets(n: int, start_hour: int = 8) -> list[list[str]]:
    """``n`` good rows an hour apart, in 长征桥社区."""
    return [
        [
            f"T{i:04d}",
            f"2026-10-05 {start_hour + i:02d}:00",
            "垃圾",
            f"第{i}条：垃圾桶满了",
            "长征桥社区",
            f"1381234{i:04d}",
        ]
        for i in range(n)
    ]


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    sqlite_store.save_world(load_world(FIXTURES / "world_small.yaml"))
    return sqlite_store


def run_import(
    store: Store,
    path: Path,
    mapping: dict[str, Any] | HotlineMapping = MAPPING,
    pipeline: LivePipeline | None = None,
    **kwargs: Any,
) -> ImportResult:
    spec = mapping if isinstance(mapping, HotlineMapping) else parse_mapping(mapping)
    sheet = read_sheet(path, spec)
    return import_sheet(sheet, spec, pipeline or LivePipeline(store), ref=path.name, **kwargs)


def stored(store: Store, ticket: str) -> Event:
    event = store.get_event("hotline", ticket)
    assert event is not None, ticket
    return event


def alert_total(store: Store) -> int:
    return sum(c["total"] for c in store.alert_counts().values())


# ---------------------------------------------------------------------- happy paths
def test_example_csv_becomes_hotline_events_with_mapped_fields(store: Store) -> None:
    result = run_import(store, EXAMPLE_CSV, load_mapping(EXAMPLE_MAP))
    assert (result.accepted, result.duplicate, result.rejected) == (5, 0, [])
    first = stored(store, "2026100500001")
    assert first.kind == "report.hotline"
    assert first.ts == datetime(2026, 10, 5, 8, 12, tzinfo=CST)  # naive: the world's zone
    assert first.area == "330105001001"  # 长征桥社区 by name
    assert first.attrs["category"] == "garbage"  # 城市管理-市容环境-垃圾清运 by its last part
    assert first.attrs["category_raw"] == "城市管理-市容环境-垃圾清运"
    assert first.attrs["phone"] == "138****1234"
    assert first.attrs["address"] == "长征桥社区东门"
    second = stored(store, "2026100500002")
    assert second.ts == datetime(2026, 10, 5, 9, 30, tzinfo=CST)  # 2026/10/05 09:30:00
    assert second.attrs["category"] == "noise"
    assert second.attrs["venue"] == "某某饭店"
    assert "13912345678" not in second.attrs["text"]  # a number inside the text, masked
    assert "139****5678" in second.attrs["text"]
    assert stored(store, "2026100500003").attrs["category"] == "prepaid_card"
    assert stored(store, "2026100500004").area == "330105001001"  # by code
    assert stored(store, "2026100500005").ts == datetime(2026, 10, 5, 15, 20, tzinfo=CST)


def test_each_ticket_becomes_a_citizen_report_alert(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [HEADER, *tickets(4)])
    run_import(store, path)
    alerts = store.alerts()
    # every ticket, the newest too: a report is decided when it arrives
    assert {a.key for a in alerts} == {f"hotline/T000{i}" for i in range(4)}
    assert {a.scenario for a in alerts} == {"citizen.report"}


def test_newest_first_export_is_fed_in_time_order(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [HEADER, *reversed(tickets(4))])
    # imported "now", the day after: all four are late, all four still become alerts
    now = datetime(2026, 10, 6, 9, tzinfo=CST)
    result = run_import(store, path, now=now)
    assert (result.accepted, result.late) == (4, 4)
    alerts = sorted(store.alerts(), key=lambda a: a.key)
    assert [a.key for a in alerts] == [f"hotline/T000{i}" for i in range(4)]
    assert {a.opened_at for a in alerts} == {now}  # deadlines start on arrival


def test_xlsx_with_title_row_dates_numbers_and_formula_text(store: Store, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "汇总"
    data = book.create_sheet("工单明细")
    data.append(["12345 工单导出 2026-10-05"])  # a title row above the header
    data.append(HEADER)
    data.append([2026100500001, datetime(2026, 10, 5, 8, 12), "垃圾", None, "G0001", None])
    text = data.cell(3, 4)
    text.value, text.data_type = "=cmd|' /C calc'!A0", "s"  # text that looks like a formula
    data.append([2026100500002.0, "2026-10-05 09:00", "道路", "路面塌陷", "小河社区", 13812341234])
    data.append([None, None, None, None, None, None])  # a blank row
    data.append([2026100500003, "2026-10-05 10:00", "道路", '=HYPERLINK("http://x")', "G0001"])
    path = tmp_path / "export.xlsx"
    book.save(path)
    result = run_import(store, path, {**MAPPING, "sheet": "工单明细", "header_row": 2})
    assert (result.accepted, result.blank) == (2, 1)
    first = stored(store, "2026100500001")  # a number cell: no ".0", no exponent
    assert first.ts == datetime(2026, 10, 5, 8, 12, tzinfo=CST)
    assert first.attrs["text"] == "=cmd|' /C calc'!A0"  # kept as text, never evaluated
    assert first.area == "G0001"
    second = stored(store, "2026100500002")
    assert second.attrs == {
        "category": "road",
        "text": "路面塌陷",
        "category_raw": "道路",
        "phone": "138****1234",
    }
    # a real formula is never evaluated: only the value Excel saved counts, and this
    # file (written by a program, not by Excel) saved none
    assert [(r.row, r.field, r.reason) for r in result.rejected] == [(6, "诉求内容", "is empty")]


def test_gb18030_csv_is_read_without_being_told(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gb.csv", [HEADER, *tickets(2)], encoding="gb18030")
    result = run_import(store, path)
    assert result.accepted == 2
    assert stored(store, "T0000").attrs["text"] == "第0条：垃圾桶满了"


def test_tab_separated_export_and_encoding_in_the_mapping(store: Store, tmp_path: Path) -> None:
    rows = [HEADER, *tickets(1)]
    path = tmp_path / "t.txt"
    path.write_bytes(("\n".join("\t".join(r) for r in rows) + "\n").encode("gb18030"))
    result = run_import(store, path, {**MAPPING, "encoding": "gb18030"})
    assert result.accepted == 1


# ---------------------------------------------------------------------- reruns
def test_rerunning_the_same_file_adds_no_event_and_no_alert(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [HEADER, *tickets(5)])
    first = run_import(store, path)
    events, alerts = store.event_count(), alert_total(store)
    again = run_import(store, path)
    assert (first.accepted, first.duplicate) == (5, 0)
    assert (again.accepted, again.duplicate, again.rejected) == (0, 5, [])
    assert store.event_count() == events == 5
    assert alert_total(store) == alerts


def test_a_ticket_listed_twice_in_one_file_is_kept_once(store: Store, tmp_path: Path) -> None:
    rows = tickets(2)
    path = write_csv(tmp_path / "t.csv", [HEADER, *rows, rows[0]])
    result = run_import(store, path)
    assert (result.accepted, result.duplicate) == (2, 1)


# ---------------------------------------------------------------------- bad rows
def test_bad_rows_are_named_by_row_and_column_and_the_rest_goes_on(
    store: Store, tmp_path: Path
) -> None:
    good = tickets(3)
    bad_time = ["T0100", "昨天下午", "垃圾", "内容", "长征桥社区", "13800000000"]
    no_id = ["", "2026-10-05 12:00", "垃圾", "内容", "长征桥社区", ""]
    no_area = ["T0102", "2026-10-05 12:00", "垃圾", "内容", "火星社区", ""]
    path = write_csv(
        tmp_path / "t.csv", [HEADER, good[0], bad_time, good[1], no_id, no_area, good[2]]
    )
    result = run_import(store, path)
    assert result.accepted == 3
    assert [(r.row, r.field) for r in result.rejected] == [
        (3, "受理时间"),  # the header is row 1
        (5, "工单编号"),
        (6, "所属社区"),
    ]
    assert "'昨天下午' is not a time" in result.rejected[0].reason
    assert result.rejected[0].id == "T0100"
    assert "not an area code or name" in result.rejected[2].reason
    assert result.exit_code == 1
    letters = store.dead_letters()
    assert [(d.channel, d.ref, d.field) for d in letters] == [
        ("hotline", "t.csv:row 3", "受理时间"),
        ("hotline", "t.csv:row 5", "工单编号"),
        ("hotline", "t.csv:row 6", "所属社区"),
    ]
    kept = orjson.loads(letters[0].payload or b"")
    assert kept["受理时间"] == "昨天下午"
    assert kept["来电号码"] == "138****0000"  # dead letters keep no full number either


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("2026-10-05", "has a date but no time of day"),
        ("2026-02-30 10:00", "is not a real date and time"),
        ("1999-12-31 23:00", "is outside 2000 .. 2100"),
        ("2026-12-01 10:00", "is in the future"),
    ],
)
def test_times_that_cannot_be_right_are_refused(
    store: Store, tmp_path: Path, cell: str, reason: str
) -> None:
    path = write_csv(tmp_path / "t.csv", [HEADER, ["T1", cell, "垃圾", "x", "", ""]])
    now = datetime(2026, 11, 1, tzinfo=UTC)
    result = run_import(store, path, now=now)
    assert len(result.rejected) == 1
    assert result.rejected[0].field == "受理时间"
    assert reason in result.rejected[0].reason


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-10-05 14:03", datetime(2026, 10, 5, 14, 3, tzinfo=CST)),
        ("2026/10/05 14:03:07", datetime(2026, 10, 5, 14, 3, 7, tzinfo=CST)),
        ("2026/10/5 8:03", datetime(2026, 10, 5, 8, 3, tzinfo=CST)),
        ("2026.10.05 14:03", datetime(2026, 10, 5, 14, 3, tzinfo=CST)),
        ("2026年10月5日 14时03分", datetime(2026, 10, 5, 14, 3, tzinfo=CST)),
        ("2026-10-05T06:03:00Z", datetime(2026, 10, 5, 14, 3, tzinfo=CST)),
        ("2026-10-05T14:03:00+08:00", datetime(2026, 10, 5, 14, 3, tzinfo=CST)),
        ("2026-10-05 14:03:00.250", datetime(2026, 10, 5, 14, 3, 0, 250000, tzinfo=CST)),
        (datetime(2026, 10, 5, 14, 3), datetime(2026, 10, 5, 14, 3, tzinfo=CST)),
        (46300.5, datetime(2026, 10, 5, 12, 0, tzinfo=CST)),  # an Excel serial number
    ],
)
def test_common_time_forms(cell: object, expected: datetime) -> None:
    from zoneinfo import ZoneInfo

    assert parse_time(cell, ZoneInfo("Asia/Shanghai"), "受理时间") == expected


def test_time_format_from_the_mapping(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [HEADER, ["T1", "05/10/2026 14:03", "垃圾", "x", "", ""]])
    run_import(store, path, {**MAPPING, "time_format": "%d/%m/%Y %H:%M"})
    assert stored(store, "T1").ts == datetime(2026, 10, 5, 14, 3, tzinfo=CST)


def test_an_id_excel_shortened_to_an_exponent_is_refused(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [HEADER, ["2.02610E+13", "2026-10-05 10:00", "", "x"]])
    result = run_import(store, path)
    assert result.rejected[0].field == "工单编号"
    assert "format the column as text" in result.rejected[0].reason


def test_huge_text_is_cut_and_the_row_kept_with_a_warning(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [HEADER, ["T1", "2026-10-05 10:00", "垃圾", "很" * 5000]])
    result = run_import(store, path)
    assert result.accepted == 1
    event = stored(store, "T1")
    assert len(event.attrs["text"]) == 4000
    assert event.attrs["text_truncated"] == 5000
    assert [(w.row, w.field) for w in result.warnings] == [(2, "诉求内容")]


def test_a_csv_cell_over_the_reader_limit_rejects_only_its_row(
    store: Store, tmp_path: Path
) -> None:
    rows = [HEADER, ["T1", "2026-10-05 10:00", "垃圾", "x" * 200_000], *tickets(1)]
    path = write_csv(tmp_path / "t.csv", rows)
    result = run_import(store, path)
    assert result.accepted == 1
    assert [(r.row, r.field) for r in result.rejected] == [(2, "(row)")]
    assert "field larger than field limit" in result.rejected[0].reason


# ---------------------------------------------------------------------- categories
def test_categories_unknown_become_other_unless_strict(store: Store, tmp_path: Path) -> None:
    rows = [
        ["C1", "2026-10-05 10:00", "噪音扰民", "x"],
        ["C2", "2026-10-05 10:01", "Garbage", "x"],  # already a cityeye category
        ["C3", "2026-10-05 10:02", "宠物扰民", "x"],
        ["C4", "2026-10-05 10:03", "", "x"],
    ]
    base = {"columns": {k: MAPPING["columns"][k] for k in ("id", "time", "text", "category")}}
    base["categories"] = MAPPING["categories"]
    path = write_csv(tmp_path / "t.csv", [HEADER[:4], *rows])
    run_import(store, path, base)
    got = {t: stored(store, t).attrs["category"] for t in ("C1", "C2", "C3", "C4")}
    assert got == {"C1": "noise", "C2": "garbage", "C3": "other", "C4": "other"}
    assert stored(store, "C3").attrs["category_raw"] == "宠物扰民"

    strict = {**base, "strict_categories": True}
    path = write_csv(tmp_path / "s.csv", [HEADER[:4], *[[f"S{r[0]}", *r[1:]] for r in rows]])
    result = run_import(store, path, strict)
    assert [(r.row, r.field) for r in result.rejected] == [(4, "诉求类别"), (5, "诉求类别")]
    assert "'宠物扰民' is not in categories" in result.rejected[0].reason


# ---------------------------------------------------------------------- privacy
@pytest.mark.parametrize(
    ("cell", "masked"),
    [
        ("13812341234", "138****1234"),
        ("+86 138 1234 1234", "138****1234"),
        ("0571-87654321", "057*****4321"),
        ("13812341234；0571-87654321", "138****1234, 057*****4321"),
        ("110", "***"),
        ("无", None),
    ],
)
def test_phone_numbers_are_masked(cell: str, masked: str | None) -> None:
    assert mask_phone(cell) == masked


def test_numbers_inside_text_are_masked() -> None:
    text = "来电人13812341234，座机0571-87654321，身份证330105199001011234反映"
    assert mask_numbers(text) == (
        "来电人138****1234，座机0571-****4321，身份证330105********1234反映"
    )
    assert mask_numbers("工单2026100500001于2026-10-05受理") == "工单2026100500001于2026-10-05受理"


def test_no_full_phone_number_is_stored_anywhere(store: Store, tmp_path: Path) -> None:
    rows = [
        ["P1", "2026-10-05 10:00", "垃圾", "请回电13912345678", "长征桥社区", "13812341234"],
        ["P2", "不是时间", "垃圾", "请回电13912345678", "长征桥社区", "13812341234"],
    ]
    path = write_csv(tmp_path / "t.csv", [HEADER, *rows])
    run_import(store, path)
    event = stored(store, "P1")
    kept = orjson.dumps(event.to_json()) + b"".join(
        d.raw.encode() + (d.payload or b"") for d in store.dead_letters()
    )
    assert b"13812341234" not in kept
    assert b"13912345678" not in kept
    assert event.attrs["phone"] == "138****1234"


# ---------------------------------------------------------------------- the file
def test_a_missing_column_is_named_before_anything_is_stored(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [["工单号", "受理时间", "诉求内容"], ["1", "x", "y"]])
    mapping = parse_mapping({"columns": {"id": "工单编号", "time": "受理时间", "text": "诉求内容"}})
    with pytest.raises(HotlineError) as caught:
        read_sheet(path, mapping)
    (line,) = caught.value.lines()
    assert line.startswith(
        f"{path}: 工单编号: column is not in the header (row 1; mapped as columns.id)"
    )
    assert "'工单号'" in line


def test_headers_match_across_full_width_brackets_and_spaces(store: Store, tmp_path: Path) -> None:
    header = ["工单 编号", "受理时间（北京）", "诉求内容"]
    path = write_csv(tmp_path / "t.csv", [header, ["H1", "2026-10-05 10:00", "x"]])
    mapping = {"columns": {"id": "工单编号", "time": "受理时间(北京)", "text": "诉求内容"}}
    assert run_import(store, path, mapping).accepted == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "(file): is empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "old .xls workbook"),
        (b"PK\x03\x04not really a zip", "is not a readable .xlsx workbook"),
    ],
)
def test_unusable_files_are_refused_whole(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(HotlineError) as caught:
        read_sheet(path, parse_mapping(MAPPING))
    assert message in caught.value.lines()[0]


def test_blank_rows_are_skipped_and_counted(store: Store, tmp_path: Path) -> None:
    rows = [HEADER, *tickets(1), ["", " ", "", "", "", ""], [], *tickets(2, start_hour=12)[1:]]
    result = run_import(store, write_csv(tmp_path / "t.csv", rows))
    assert (result.accepted, result.blank, result.rejected) == (2, 2, [])


# ---------------------------------------------------------------------- mapping file
def test_mapping_file_problems_name_field_and_line(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(
        "columns:\n"
        "  id: 工单编号\n"
        "  text: 诉求内容\n"
        "  lat: 纬度\n"
        "  colour: 颜色\n"
        "categories:\n"
        "  垃圾: Garbage Bins\n"
        "header_row: 0\n",
        encoding="utf-8",
    )
    with pytest.raises(HotlineError) as caught:
        load_mapping(path)
    lines = caught.value.lines()
    assert f"{path}:1: columns.time: is required" in lines
    assert any(
        line.startswith(f"{path}:5: columns.colour: is not a mapping field") for line in lines
    )
    assert any(line.startswith(f"{path}:6: categories: 垃圾: 'Garbage Bins'") for line in lines)
    assert any(line.startswith(f"{path}:8: header_row:") for line in lines)


def test_mapping_needs_lat_and_lon_together() -> None:
    with pytest.raises(HotlineError) as caught:
        parse_mapping({"columns": {"id": "a", "time": "b", "text": "c", "lat": "d"}})
    assert caught.value.lines() == ["mapping: columns.lon: lat and lon must be mapped together"]


def test_coordinates_locate_the_grid(store: Store, tmp_path: Path) -> None:
    header = ["工单编号", "受理时间", "诉求内容", "纬度", "经度"]
    rows = [
        ["L1", "2026-10-05 10:00", "x", "30.305", "120.105"],  # inside G0001
        ["L2", "2026-10-05 10:01", "x", "0", "0"],  # "no position"
        ["L3", "2026-10-05 10:02", "x", "30.305", ""],
    ]
    mapping = {
        "columns": {"id": "工单编号", "time": "受理时间", "text": "诉求内容"}
        | {"lat": "纬度", "lon": "经度"}
    }
    result = run_import(store, write_csv(tmp_path / "t.csv", [header, *rows]), mapping)
    assert (stored(store, "L1").lat, stored(store, "L1").lon) == (30.305, 120.105)
    assert store.event_counts_by_area(
        load_world(FIXTURES / "world_small.yaml"), AreaLevel.GRID
    ) == {"G0001": 1}
    assert stored(store, "L2").lat is None
    assert [(r.row, r.field) for r in result.rejected] == [(4, "经度")]


def test_a_backfilled_export_from_yesterday_becomes_cases_due_from_today(
    store: Store, tmp_path: Path
) -> None:
    """Issue 15: reports stay actionable however late (``raise_late``): yesterday's
    tickets, imported today, are flagged late and become cases whose deadlines start
    at the import, each keeping when the resident called."""
    today = datetime(2026, 10, 6, 9, tzinfo=CST)
    pipeline = LivePipeline(store)
    pipeline.tick(today)  # serve's wall clock is a day ahead of the export
    path = write_csv(tmp_path / "t.csv", [HEADER, *tickets(2)])
    result = run_import(store, path, pipeline=pipeline, now=today)
    assert (result.accepted, result.late) == (2, 2)
    assert alert_total(store) == 2
    assert any("older than the live engine's clock" in note for note in result.notes)
    cases = sorted(store.load_cases(), key=lambda c: c.key or "")
    assert [c.key for c in cases] == ["hotline/T0000", "hotline/T0001"]
    for case, hour in zip(cases, (8, 9), strict=True):
        assert case.opened_at == today
        assert case.due_at is not None
        assert case.due_at > today
        notes = [e.note for e in case.timeline if e.action == "reported_late"]
        assert notes == [f"事发于 2026-10-05 {hour:02d}:00，迟到补报，时限自收到起算"]
    alert = {a.key: a for a in pipeline.engine.alerts}["hotline/T0000"]
    assert alert.reported_at == datetime(2026, 10, 5, 8, tzinfo=CST)


# ---------------------------------------------------------------------- the command
def test_cli_imports_reports_and_sets_the_exit_code(store: Store, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cityeye.db'}"  # the store of the fixture
    args = ["import", "hotline", str(EXAMPLE_CSV), "--mapping", str(EXAMPLE_MAP), "--db", url]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "accepted 已接收" in result.output
    assert "5/5" in result.output  # the progress bar, by rows
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert store.event_count() == 5

    bad = write_csv(
        tmp_path / "bad.csv",
        [HEADER, *tickets(1), ["T9", "2026-13-01 10:00", "垃圾", "x", "", ""]],
    )
    errors = tmp_path / "errors.csv"
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns: {id: 工单编号, time: 受理时间, text: 诉求内容, category: 诉求类别}\n",
        encoding="utf-8",
    )
    args = ["import", "hotline", str(bad), "--mapping", str(mapping), "--db", url]
    result = runner.invoke(app, [*args, "--errors", str(errors)])
    assert result.exit_code == 1, result.output
    assert f"{bad}:row 3 [T9]: 受理时间:" in result.output
    assert store.get_event("hotline", "T0000") is not None  # the good row is kept
    lines = errors.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "row,id,field,reason"
    assert lines[1].startswith("3,T9,受理时间,")


def test_cli_missing_column_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [["编号", "时间", "内容"], ["1", "2", "3"]])
    db = tmp_path / "c.db"
    result = runner.invoke(
        app,
        ["import", "hotline", str(path), "--mapping", str(EXAMPLE_MAP), "--db", f"sqlite:///{db}"],
    )
    assert result.exit_code == 2
    assert "工单编号: column is not in the header" in result.output
    assert "nothing imported" in result.output
    assert not db.exists()
