"""月考核: a round's result is published once and stays what it was — a late correction
moves the live board, not the published result; its documents (HTML, xlsx, PDF) hold
the frozen ranks; the results API gives each person the rows of their areas only, the
public its units only; and the reports API serves an area's report to the posts that
see that area, to nobody else.

The month of cases is test_assessment's (小河 100 points, 上塘 and 大关 below)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from test_assessment import (
    CST,
    PARTIES,
    PASSWORD,
    ROUTES,
    RULES,
    WORLD,
    Month,
    get,
    source,
    store,
)

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.api.presenters import board_json
from cityeye.assessment import board, parse_period, parse_rules
from cityeye.cases import CaseBook
from cityeye.domain import FieldError
from cityeye.result_report import result_html, write_result
from cityeye.routine.results import publish_round
from cityeye.store import Store
from cityeye.store.results import find_results, get_result, publish_result
from pdfcheck import dark_pixels_at_top, unembedded_fonts

__all__ = ["store"]  # the fixture, shared with test_assessment

OCTOBER = parse_period("2026-10")
#: 09:00 on the first day after the round, in the district.
PUBLISHED = datetime(2026, 11, 1, 9, 0, tzinfo=CST)


def test_publishing_a_round_is_idempotent(store: Store) -> None:
    rules = parse_rules(RULES)
    first = publish_round(store, WORLD, rules, OCTOBER, PUBLISHED)
    assert [(r.period, r.level, r.published_at) for r in first] == [
        ("2026-10", "community", PUBLISHED),
        ("2026-10", "street", PUBLISHED),
    ]
    later = datetime(2026, 11, 2, 9, 0, tzinfo=CST)
    again = publish_round(store, WORLD, rules, OCTOBER, later)
    assert again == first  # nothing new: the first publication stands
    frozen = get_result(store, "2026-10", "street")
    assert frozen is not None
    assert not publish_result(
        store,
        period="2026-10",
        level="street",
        area="",
        contest="改过的",
        board={"rows": []},
        now=later,
    )
    assert get_result(store, "2026-10", "street") == frozen
    assert get_result(store, "2026-09", "street") is None
    assert [r.period for r in find_results(store)] == ["2026-10", "2026-10"]


def test_a_round_not_yet_over_is_not_published(store: Store) -> None:
    with pytest.raises(FieldError) as refused:
        publish_round(
            store, WORLD, parse_rules(RULES), OCTOBER, datetime(2026, 10, 31, 23, 0, tzinfo=CST)
        )
    assert refused.value.field == "period"
    assert find_results(store) == []


def test_a_late_correction_moves_the_live_board_not_the_published_result(store: Store) -> None:
    rules = parse_rules(RULES)
    publish_round(store, WORLD, rules, OCTOBER, PUBLISHED)
    # a case of 20 October, entered after publication and never handled (a hotline
    # record imported late): 小河's October is no longer perfect
    late = CaseBook(WORLD, ROUTES, auto_dispatch=True, id_prefix="L")
    Month(late, date(2026, 10, 20)).left_open("G1", "fire.smoke")
    store.save_cases(late.cases.values())
    live = {s.unit: s.score for s in board(rules, source(store), WORLD, "street", OCTOBER).rows}
    frozen = get_result(store, "2026-10", "street")
    assert frozen is not None
    published = {r["unit"]: r["score"] for r in frozen["rows"]}
    assert published["S1"] == 100
    assert live["S1"] < 100
    assert frozen["published_at"] == "2026-11-01T01:00:00+00:00"


def published_board(store: Store, level: str = "street") -> dict[str, Any]:
    publish_round(store, WORLD, parse_rules(RULES), OCTOBER, PUBLISHED)
    found = get_result(store, "2026-10", level)
    assert found is not None
    return found


TITLE = "数字治理赛 2026年10月 考核结果 · Contest result, October 2026"


def test_the_xlsx_holds_the_boards_units_ranks_and_scores(store: Store, tmp_path: Path) -> None:
    frozen = published_board(store)
    path = tmp_path / "result.xlsx"
    write_result(frozen, "xlsx", path)
    book = load_workbook(path)
    sheet = book["排名 Ranking"]
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[0][0] == TITLE
    assert lines[1][0] == "发布时间 · Published：2026-11-01 09:00"
    start = next(i for i, row in enumerate(lines) if row[0] == "名次 rank") + 1
    got = [(row[0], row[1], row[2]) for row in lines[start:]]
    assert got == [(r["rank"], r["name"], r["score"]) for r in frozen["rows"]]
    assert [r["rank"] for r in frozen["rows"]] == [1, 2, 3]
    # every KPI term of every street, with its value and points
    points = list(book["得分明细 Points"].iter_rows(values_only=True))[1:]
    assert len(points) == 3 * (4 + 3)  # four KPIs and three deductions each
    upper = [row for row in points if row[0] == "上塘街道" and str(row[1]).startswith("处置率")]
    assert upper == [("上塘街道", "处置率 handling rate", 0.8, "≥ 90.0%", 35.56, 40, "未达标")]
    assert "不是种子文献给出的数字" in str(book["说明 Notes"]["A1"].value)


def test_the_pdf_and_html_show_the_result_in_chinese(store: Store, tmp_path: Path) -> None:
    frozen = published_board(store, "community")
    path = tmp_path / "result.pdf"
    write_result(frozen, "pdf", path)
    assert unembedded_fonts(path) == []
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    for shown in ("考核结果", "长征桥社区", "未排名", "达标", "上期未排名", "处置率"):
        assert shown in text, shown
    # 小河社区 had no case: listed, not ranked, no score (not the 100 of empty terms)
    assert "未排名\n小河社区\n—\n无数据" in text
    assert dark_pixels_at_top(path, tmp_path) > 50
    page = result_html(frozen)
    assert TITLE in page
    assert "2026-11-01 09:00" in page
    assert "拱墅区各社区 · communities" in page
    # scores as scores: no "100.0", no "-0" for a deduction of nothing
    assert "满分 · Full marks：100</p>" in page
    assert ">-0<" not in page
    assert ">0<" in page
    # no internal id or enum value on the Chinese page
    for internal in ("handling_rate", "green", "yellow", ">red<", "supervisions", "C1<"):
        assert internal not in page, internal
    with pytest.raises(FieldError, match="format"):
        write_result(frozen, "docx", tmp_path / "x.docx")


# ---------------------------------------------------------------------- the API
@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    users: dict[str, dict[str, Any]] = {
        "xh_leader": {"role": "leader", "areas": ("S1",)},
        "st_dispatch": {"role": "dispatcher", "areas": ("S2",)},
        "c1_dispatch": {"role": "dispatcher", "areas": ("C1",)},
        "district": {"role": "leader", "areas": ("D",)},
        "root": {"role": "admin"},
        "gw1": {"role": "handler", "party_id": "GW1"},
        "resident": {"role": "resident"},
    }
    for name, spec in users.items():
        create_user(
            store, WORLD, username=name, password=PASSWORD, display_name=f"王{name}", **spec
        )
    app = create_app(store, None, wall_clock=False, assessment=parse_rules(RULES))
    with TestClient(app) as c:
        yield c


RESULT = "/api/v1/assessment/results/2026-10"


def test_a_result_is_404_until_published_then_scoped_like_the_board(
    client: TestClient, store: Store
) -> None:
    assert get(client, RESULT, "district").status_code == 404
    assert get(client, "/api/v1/assessment/results", "district").json() == {"results": []}
    publish_round(store, WORLD, parse_rules(RULES), OCTOBER, PUBLISHED)
    listed = get(client, "/api/v1/assessment/results", "xh_leader").json()["results"]
    assert [(r["period"], r["level"]) for r in listed] == [
        ("2026-10", "community"),
        ("2026-10", "street"),
    ]
    assert listed[0]["published_at"] == "2026-11-01T01:00:00+00:00"
    every = get(client, RESULT, "district", level="community").json()
    assert [(r["unit"], r["rank"]) for r in every["rows"]] == [
        ("C1", 1),
        ("C2", 2),
        ("C3", 3),
        ("C4", None),
    ]
    # a street leader: their street's communities, with their district-wide ranks
    mine = get(client, RESULT, "xh_leader", level="community").json()
    assert [(r["unit"], r["rank"]) for r in mine["rows"]] == [("C1", 1), ("C4", None)]
    assert mine["units"] == 4
    other = get(client, RESULT, "st_dispatch", level="street").json()
    assert [r["unit"] for r in other["rows"]] == ["S2"]
    # a handler: the units inside their party's areas (a grid worker's grid: none)
    handler = get(client, RESULT, "gw1", level="community")
    assert handler.status_code == 200
    assert handler.json()["rows"] == []
    assert get(client, RESULT, "resident").status_code == 403
    assert get(client, "/api/v1/assessment/results", "resident").status_code == 403
    assert get(client, RESULT).status_code == 401
    assert get(client, "/api/v1/assessment/results").status_code == 401
    bad = get(client, "/api/v1/assessment/results/2026-13", "district")
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("period:")
    fmt = get(client, RESULT, "district", format="docx")
    assert fmt.status_code == 422
    assert "format" in fmt.json()["detail"]


def test_a_result_downloads_as_its_document_with_the_callers_rows(
    client: TestClient, store: Store
) -> None:
    publish_round(store, WORLD, parse_rules(RULES), OCTOBER, PUBLISHED)
    r = get(client, RESULT, "xh_leader", level="community", format="xlsx")
    assert r.status_code == 200, r.text
    name = quote("考核结果-2026-10-community.xlsx")
    assert f"filename*=UTF-8''{name}" in r.headers["content-disposition"]
    assert r.headers["content-disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(r.content))["排名 Ranking"]
    names = [row[1] for row in sheet.iter_rows(values_only=True) if row[0] in (1, "未排名")]
    assert names == ["长征桥社区", "小河社区"]  # not another street's communities
    pdf = get(client, RESULT, "district", format="pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    html = get(client, RESULT, "district", format="html")
    assert html.headers["content-disposition"].startswith("inline;")
    assert TITLE in html.text


def test_the_public_result_shows_units_never_a_person(client: TestClient, store: Store) -> None:
    assert get(client, "/api/v1/public/results/2026-10").status_code == 404
    publish_round(store, WORLD, parse_rules(RULES), OCTOBER, PUBLISHED)
    r = get(client, "/api/v1/public/results/2026-10", level="community")
    assert r.status_code == 200, r.text
    assert [row["unit"] for row in r.json()["rows"]] == ["C1", "C2", "C3", "C4"]
    for person in [*(p.name for p in PARTIES), "王xh_leader", "王district"]:
        assert person not in r.text
    assert get(client, "/api/v1/public/results/2026-10", level="party").status_code == 422
    pdf = get(client, "/api/v1/public/results/2026-10", format="pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_a_private_contest_has_no_public_result(store: Store) -> None:
    rules = parse_rules(RULES + "  public: false\n")
    publish_round(store, WORLD, rules, OCTOBER, PUBLISHED)
    with TestClient(create_app(store, None, wall_clock=False, assessment=rules)) as c:
        assert c.get("/api/v1/public/results/2026-10").status_code == 404


REPORT = "/api/v1/reports/2026-10"


def test_a_report_is_of_an_area_in_the_callers_scope(client: TestClient) -> None:
    mine = get(client, REPORT, "xh_leader")  # default: their own street, as PDF
    assert mine.status_code == 200, mine.text
    assert mine.content.startswith(b"%PDF")
    disposition = mine.headers["content-disposition"]
    assert f"filename*=UTF-8''{quote('月报-小河街道-2026-10.pdf')}" in disposition
    inside = get(client, REPORT, "xh_leader", area="C1", format="html")
    assert inside.status_code == 200
    assert "长征桥社区" in inside.text
    week = get(client, "/api/v1/reports/2026-W44", "district", format="xlsx")
    assert week.status_code == 200
    assert quote("周通报-拱墅区-2026-W44.xlsx") in week.headers["content-disposition"]
    everywhere = get(client, REPORT, "root", area="S2", format="html")
    assert everywhere.status_code == 200
    assert "上塘街道" in everywhere.text


@pytest.mark.parametrize(
    ("user", "params", "status", "field"),
    [
        ("xh_leader", {"area": "S2"}, 404, "area"),  # another street
        ("c1_dispatch", {"area": "S1"}, 404, "area"),  # above their community
        ("xh_leader", {"area": "nowhere"}, 404, "area"),
        ("gw1", {}, 403, None),  # a handler's scope is their party, not an area
        ("resident", {}, 403, None),
        (None, {}, 401, None),
        ("xh_leader", {"format": "docx"}, 422, "format"),
    ],
)
def test_a_report_across_a_boundary_is_refused(
    client: TestClient, user: str | None, params: dict[str, str], status: int, field: str | None
) -> None:
    r = get(client, REPORT, user, **params)
    assert r.status_code == status, r.text
    if field is not None:
        assert field in r.json()["detail"]


@pytest.mark.parametrize("period", ["2026-13", "2026-W60", "October"])
def test_a_report_of_a_bad_period_names_the_field(client: TestClient, period: str) -> None:
    r = get(client, f"/api/v1/reports/{period}", "xh_leader")
    assert r.status_code == 422
    assert r.json()["detail"].startswith("period:")


def test_the_frozen_board_is_the_live_boards_json(store: Store) -> None:
    """What is published is exactly what the board API answered at that moment, plus
    the district's time zone (the documents print local times)."""
    frozen = published_board(store)
    live = board_json(
        board(parse_rules(RULES), source(store), WORLD, "street", OCTOBER), WORLD, None
    )
    assert {k: v for k, v in frozen.items() if k not in ("published_at", "timezone")} == live
    assert frozen["timezone"] == "Asia/Shanghai"
