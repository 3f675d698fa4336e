"""Exports from the pages (issue 18, items 5 and 9): the desk's list, the cockpit's area
table and its case drawer each download an xlsx and a PDF in a real browser, signed in
by the page's own session, with the filters on screen in the file's title."""

from __future__ import annotations

from pathlib import Path

import httpx
from openpyxl import load_workbook
from pypdf import PdfReader

from pdfcheck import unembedded_fonts
from serving import run_in_browser

PASSWORD = "exports-pass-12345"
PEOPLE = {
    "disp": ("--role", "dispatcher", "--area", "330105001", "--name", "王调度"),
    "boss": ("--role", "leader", "--area", "330105", "--name", "区领导"),
}


def reports(base: str) -> None:
    events = [
        {
            "id": f"r{i}",
            "kind": "report.citizen",
            "ts": f"2026-11-23T{8 + i:02d}:00:00+08:00",
            "source": "app",
            "area": grid,
            "attrs": {"category": "road", "text": f"路面坑洼 {i}"},
        }
        for i, grid in enumerate(["G0001", "G0002", "G0003"])
    ]
    events.append(  # moves event time past the lateness hold
        {
            "id": "t1",
            "kind": "door.open",
            "ts": "2026-11-23T12:00:00+08:00",
            "source": "gw",
            "device_id": "D1",
        }
    )
    r = httpx.post(f"{base}/api/v1/events", json=events, timeout=10)
    assert r.json()["accepted"] == len(events), r.text


def title_and_rows(path: str, first: str) -> tuple[str, list[tuple[object, ...]]]:
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    at = next(i for i, row in enumerate(rows) if row and row[0] == first)
    return str(rows[0][0]), rows[at + 1 :]


def test_the_pages_export_what_they_show(tmp_path: Path) -> None:
    report, _ = run_in_browser(
        tmp_path,
        "exports.mjs",
        users=PEOPLE,
        password=PASSWORD,
        serve=("--clock", "events", "--open-ingest", "--lateness", "0s"),
        before=reports,
        env={"DISPATCHER": "disp", "LEADER": "boss"},
    )
    assert report["errors"] == []
    files = report["files"]
    assert isinstance(files, dict)
    assert sorted(files) == ["desk_pdf", "desk_xlsx", "drawer_pdf", "drawer_xlsx", "table_xlsx"]
    stayed = report["stayed"]
    assert isinstance(stayed, dict)
    assert stayed["desk_xlsx"].endswith("/desk")  # a download, not a page left behind
    assert stayed["table_xlsx"].endswith("/cockpit")
    # the desk's first tab for a dispatcher: the cases to dispatch, by their Chinese states
    title, rows = title_and_rows(files["desk_xlsx"], "工单编号")
    assert title.startswith("工单清单（状态：已上报")
    assert len(rows) == report["deskTab"]  # the tab's count, every case of it
    assert {r[4] for r in rows} == {"已上报"}
    # the cockpit's table at the district: one row per street, named
    title, rows = title_and_rows(files["table_xlsx"], "街道")
    assert "分街道指标" in title
    assert "小河街道" in [r[0] for r in rows]
    # the drawer behind the "opened" tile: the same cases, in both formats
    title, rows = title_and_rows(files["drawer_xlsx"], "工单编号")
    assert "立案日期：" in title
    assert len(rows) == report["drawerCases"] == 3  # the three reports, all opened that day
    for key in ("desk_pdf", "drawer_pdf"):
        assert unembedded_fonts(Path(files[key])) == []
        text = "".join(p.extract_text() for p in PdfReader(files[key]).pages)
        assert "工单清单" in text
    names = report["names"]
    assert isinstance(names, dict)
    assert names["desk_xlsx"].endswith(".xlsx")
