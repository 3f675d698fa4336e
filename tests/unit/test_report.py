"""The monthly report (一表通): derived from stored cases, in HTML and Excel."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from test_replay_cases import action, line
from typer.testing import CliRunner

from cityeye.backtest import run_replay
from cityeye.cli import app
from cityeye.domain import FieldError
from cityeye.report import build_report, render_html
from cityeye.store import Store
from cityeye.world import load_world
from pdfcheck import dark_pixels_at_top, unembedded_fonts

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("report")
    events = [
        line(1, "smoke.alarm", "08:00", device_id="D2"),
        action(2, "08:01", action="dispatch", party="P-GW1"),
        action(3, "08:02", action="accept", party="P-GW1"),
        action(4, "08:03", action="co_handle", party="P-PM1"),
        action(5, "08:20", action="handle", party="P-GW1", note="已处理"),
        action(6, "08:30", action="verify", role="verifier"),
        action(7, "08:31", action="close"),
        line(8, "crowd.count", "09:00", device_id="D3", attrs={"count": 30, "elderly_ratio": 0.8}),
        line(9, "door.open", "23:00", device_id="D1"),
    ]
    path = base / "events.jsonl"
    path.write_bytes(b"\n".join(events) + b"\n")
    run_replay(path, base / "out", load_world(FIXTURES / "world_small.yaml"))
    return f"sqlite:///{base / 'out' / 'cityeye.db'}"


def test_report_counts_the_street_with_its_grids(db: str) -> None:
    store = Store.open(db)
    try:
        report = build_report(store, "2026-10", "小河街道")
    finally:
        store.close()
    assert (report.kpis["cases"], report.kpis["closed"]) == (2, 1)
    assert report.kpis["co_governance_rate"] == 1.0
    assert [c["name"] for c in report.children] == ["长征桥社区"]
    assert [o["id"] for o in report.overdue] == ["C000002"]  # the crowd case nobody took
    html = render_html(report)
    assert "小河街道 · 2026-10 月度报告" in html
    assert "100.0%" in html  # co-governance
    assert "http" not in html  # no external asset
    # scenarios by their Chinese name; the catalogue's ids stay out of what people read
    scenarios = [s["scenario"] for s in report.scenarios]
    assert scenarios
    assert [s for s in scenarios if s in html] == []


def test_excel_report_has_the_same_figures(db: str, tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--month",
            "2026-10",
            "--area",
            "小河街道",
            "--db",
            db,
            "--format",
            "xlsx",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    rows = {r[0]: r[1] for r in book["指标 KPIs"].iter_rows(values_only=True) if r and r[0]}
    assert rows["结案 closed"] == 1
    assert rows["共治率 co-governance rate"] == 1.0
    assert book.sheetnames == [
        "指标 KPIs",
        "趋势 Trend",
        "场景 Scenarios",
        "下级 Areas",
        "超期 Overdue",
        "响应标准 Standards",  # added last: the others keep their places
        "督办 Supervision",  # the period's 督办 and 催办 (issue 19): last again
        "排名 Ranking",  # a ranked street: the contest's board of the round (issue 19)
        "电梯 Lifts",  # the lifts' counts, not dispatched (issue 20)
    ]


def test_unknown_area_and_bad_month_are_named(db: str) -> None:
    store = Store.open(db)
    try:
        with pytest.raises(FieldError, match=r"did you mean .*小河街道"):
            build_report(store, "2026-10", "小河")
        with pytest.raises(FieldError, match="not a month"):
            build_report(store, "October", "小河街道")
    finally:
        store.close()


def test_pdf_report_has_the_same_figures_in_chinese(db: str, tmp_path: Path) -> None:
    out = tmp_path / "r.pdf"
    args = ["report", "--month", "2026-10", "--area", "小河街道", "--db", db]
    result = CliRunner().invoke(app, [*args, "--format", "pdf", "--out", str(out)])
    assert result.exit_code == 0, result.output
    reader = PdfReader(out)
    text = "".join(page.extract_text() for page in reader.pages)
    for needed in ("小河街道 2026-10 月度报告", "处置率", "共治率", "100.0%", "C000002"):
        assert needed in text, needed
    raw = out.read_bytes()
    again = tmp_path / "again.pdf"
    CliRunner().invoke(app, [*args, "--format", "pdf", "--out", str(again)])
    assert again.read_bytes() == raw  # same report, same bytes


def test_pdf_report_renders_its_chinese_where_no_chinese_font_is_installed(
    db: str, tmp_path: Path
) -> None:
    """Issue 18: the report named the CID font STSong-Light without embedding it, so a
    stock Debian reader showed blank pages. Now every font is embedded (a subset of the
    packaged Noto Sans SC) and poppler, finding no font on the machine, draws the title."""
    out = tmp_path / "r.pdf"
    args = ["report", "--month", "2026-10", "--area", "小河街道", "--db", db]
    assert CliRunner().invoke(app, [*args, "--format", "pdf", "--out", str(out)]).exit_code == 0
    assert unembedded_fonts(out) == []
    assert b"NotoSansSC" in out.read_bytes()
    # the title line at 50 dpi is a few hundred dark pixels; an unembedded font draws none
    assert dark_pixels_at_top(out, tmp_path) > 200


def test_the_overdue_cases_read_in_chinese_hours_and_local_time(db: str, tmp_path: Path) -> None:
    """Issue 18: the overdue table printed "320820.0%" for 3,208 hours, states in English
    and deadlines as UTC ISO strings."""
    report = build_report(Store.open(db), "2026-10", "小河街道")
    [late] = report.overdue
    assert late["state"] == "已升级"  # the state's name, not "escalated"
    assert late["due"] == "2026-10-01 11:00"  # opened 09:00 in Hangzhou, 2 h: local, not 03:00 UTC
    out = tmp_path / "r.pdf"
    args = ["report", "--month", "2026-10", "--area", "小河街道", "--db", db]
    assert CliRunner().invoke(app, [*args, "--format", "pdf", "--out", str(out)]).exit_code == 0
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    hours = f"{late['overdue_h']:,.1f}"
    assert hours in text
    assert f"{late['overdue_h'] * 100:.1f}%" not in text
    xlsx = tmp_path / "r.xlsx"
    assert CliRunner().invoke(app, [*args, "--format", "xlsx", "--out", str(xlsx)]).exit_code == 0
    rows = list(load_workbook(xlsx)["超期 Overdue"].values)
    assert rows[1][3:5] == ("已升级", late["due"])


def test_a_report_on_a_database_that_is_not_there_creates_nothing(tmp_path: Path) -> None:
    """Issue 18: the README's command, missing --db, silently made an empty cityeye.db."""
    missing = tmp_path / "nothing-here.db"
    args = ["report", "--month", "2026-10", "--area", "小河街道", "--db", f"sqlite:///{missing}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "--db: no database at" in result.output
    assert not missing.exists()


def test_unknown_format_is_named(db: str) -> None:
    args = ["report", "--month", "2026-10", "--area", "小河街道", "--db", db, "--format", "doc"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert "'doc': give html, xlsx or pdf" in result.output


def test_the_weekly_bulletin_is_the_reports_figures_over_a_week(db: str, tmp_path: Path) -> None:
    """``--week`` gives the bulletin (周通报) of an ISO week: the month's two cases both
    fall in 2026-W40, so the week's figures are the month's; one of --month and --week."""
    out = tmp_path / "w.html"
    args = ["report", "--week", "2026-W40", "--area", "小河街道", "--db", db]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "小河街道 2026-W40" in result.output
    assert "小河街道 · 2026-W40 周通报" in out.read_text()
    store = Store.open(db)
    try:
        week, month = (
            build_report(store, "2026-W40", "小河街道"),
            build_report(store, "2026-10", "小河街道"),
        )
    finally:
        store.close()
    assert (week.kind, month.kind) == ("week", "month")
    assert (week.kpis["cases"], week.kpis["closed"]) == (month.kpis["cases"], month.kpis["closed"])
    assert week.end - week.start == timedelta(days=7)
    both = CliRunner().invoke(app, [*args, "--month", "2026-10"])
    neither = CliRunner().invoke(app, ["report", "--area", "小河街道", "--db", db])
    for refused in (both, neither):
        assert refused.exit_code != 0
        assert "give one of --month 2026-10 or --week 2026-W44" in refused.output


def test_world_load_recounts_the_kpi_counters(db: str, tmp_path: Path) -> None:
    """Re-loading the world (areas may have moved) recounts the cockpit's counters."""
    import shutil
    from datetime import date

    from sqlalchemy import text

    copy = tmp_path / "copy.db"
    shutil.copy(db.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    store = Store.open(url)
    month = (date(2026, 10, 1), date(2026, 10, 31))
    try:
        before = store.kpi_summary("street", "330105001", *month)
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM kpi_counts"))
        assert store.kpi_summary("street", "330105001", *month)["cases"] == 0
    finally:
        store.close()
    world = str(FIXTURES / "world_small.yaml")
    result = CliRunner().invoke(app, ["world", "load", world, "--db", url])
    assert result.exit_code == 0, result.output
    store = Store.open(url)
    try:
        assert store.kpi_summary("street", "330105001", *month) == before
        assert before["cases"] == 2
    finally:
        store.close()
