"""Exports (issue 18, item 5): a case list or the cockpit's table as xlsx and PDF, the
filters named in the title, the same area scope as the list.

The district is test_cockpit_api's: 小河街道 (G0001–G0003) and 大关街道 (G0101), a
dispatcher for each street, a grid worker of G0001, a district leader and an admin."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from test_cockpit_api import DAGUAN, EVENTS, PASSWORD, USERS, XIAOHE, event, two_streets

from cityeye.accounts import create_user
from cityeye.api import exports
from cityeye.api.app import create_app
from cityeye.live.pipeline import LivePipeline
from cityeye.store import Store
from cityeye.world import load_world
from pdfcheck import unembedded_fonts


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("exports")
    store = Store.open(f"sqlite:///{tmp / 'exports.db'}")
    world = load_world(two_streets(tmp))
    store.save_world(world)
    for name, spec in USERS.items():
        create_user(store, world, username=name, password=PASSWORD, **spec)
    pipeline = LivePipeline(store, lateness_s=0)
    pipeline.ingest_raw([event(*e) for e in EVENTS], "test")
    with TestClient(create_app(store, pipeline, wall_clock=False)) as client:
        yield client
    store.close()


TOKENS: dict[str, dict[str, str]] = {}


def auth(client: TestClient, username: str) -> dict[str, str]:
    if username not in TOKENS:
        r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        TOKENS[username] = {"Authorization": f"Bearer {r.json()['token']}"}
        client.cookies.clear()
    return TOKENS[username]


def workbook(client: TestClient, user: str, path: str, **params: str) -> list[tuple[Any, ...]]:
    r = client.get(path, params={**params, "format": "xlsx"}, headers=auth(client, user))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    return list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))


def table(rows: list[tuple[Any, ...]], first: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The header (the row starting with ``first``) and the rows under it."""
    at = next(i for i, row in enumerate(rows) if row and row[0] == first)
    return [str(h) for h in rows[at]], rows[at + 1 :]


def listed(client: TestClient, user: str, **params: str) -> dict[str, Any]:
    r = client.get("/api/v1/cases", params=params, headers=auth(client, user))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_the_case_export_holds_what_the_list_holds_and_names_its_filters(
    client: TestClient,
) -> None:
    params = {"area": XIAOHE, "state": "reported,dispatched", "opened_first": "2026-11-23"}
    rows = workbook(client, "root", "/api/v1/cases/export", **params)
    title = str(rows[0][0])
    for words in ("小河街道", "已上报", "立案日期：2026-11-23 至 不限"):
        assert words in title, title
    assert "导出时间：" in str(rows[1][0])
    assert "reported" not in title  # states by name, never their code
    header, data = table(rows, "工单编号")
    assert header[:5] == ["工单编号", "标题", "场景", "区域", "状态"]
    the_list = listed(client, "root", **params, per_page="200")
    assert len(data) == the_list["total"] > 0
    assert [r[0] for r in data] == [c["id"] for c in the_list["items"]]
    assert {r[4] for r in data} <= {"已上报", "已派遣"}
    # local time: the smoke alarm at 01:00 on the 24th in Hangzhou (17:00 UTC on the 23rd)
    assert "2026-11-24 01:00" in [r[7] for r in data]


def test_the_pdf_export_embeds_its_font_and_holds_the_same_rows(
    client: TestClient, tmp_path: Path
) -> None:
    r = client.get(
        "/api/v1/cases/export",
        params={"format": "pdf", "area": XIAOHE, "q": "坑洼"},
        headers=auth(client, "root"),
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    out = tmp_path / "cases.pdf"
    out.write_bytes(r.content)
    assert unembedded_fonts(out) == []
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    assert "小河街道" in text
    assert "搜索：“坑洼”" in text
    for case in listed(client, "root", area=XIAOHE, q="坑洼")["items"]:
        assert case["id"] in text


def test_a_street_exports_only_its_own_cases(client: TestClient) -> None:
    """The export goes through the list's scope: 小河's dispatcher gets no 大关 case,
    whatever the filter names, and 大关's none of 小河's."""

    def ids(user: str, **params: str) -> set[str]:
        _, data = table(workbook(client, user, "/api/v1/cases/export", **params), "工单编号")
        return {str(r[0]) for r in data}

    everything = ids("root")
    daguan = {c["id"] for c in listed(client, "root", area=DAGUAN)["items"]}
    assert daguan
    assert ids("xh_street") == everything - daguan
    assert ids("xh_street", area=DAGUAN) == set()
    assert ids("xh_street", party="P-GW9") == set()  # 大关's grid worker
    assert ids("dg_street") == daguan
    assert ids("dg_street", area=XIAOHE) == set()
    assert ids("zhang") == {c["id"] for c in listed(client, "zhang")["items"]}


def test_an_export_needs_a_sign_in_and_names_a_bad_filter(client: TestClient) -> None:
    assert client.get("/api/v1/cases/export").status_code == 401
    bad = client.get(
        "/api/v1/cases/export", params={"state": "bogus"}, headers=auth(client, "root")
    )
    assert bad.status_code == 422
    assert "state" in bad.text
    fmt = client.get("/api/v1/cases/export", params={"format": "doc"}, headers=auth(client, "root"))
    assert fmt.status_code == 422
    assert "format" in fmt.text


def test_a_capped_export_says_so(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(exports.EXPORT_ROWS, "xlsx", 2)
    total = listed(client, "root")["total"]
    assert total > 2
    rows = workbook(client, "root", "/api/v1/cases/export")
    _, data = table(rows, "工单编号")
    assert len(data) == 2
    assert any(f"只列出前 2 条（共 {total:,} 条" in str(r[0]) for r in rows[:5])


def test_the_cockpit_table_exports_with_its_area_grouping_and_period(client: TestClient) -> None:
    params = {"by": "community", "area": XIAOHE, "first": "2026-11-01", "last": "2026-11-30"}
    rows = workbook(client, "boss", "/api/v1/kpis/breakdown/export", **params)
    title = str(rows[0][0])
    assert "小河街道" in title
    assert "分社区" in title
    assert "2026-11-01 至 2026-11-30" in title
    header, data = table(rows, "社区")
    assert header[1:3] == ["处置率", "按期办结率"]
    shown = client.get("/api/v1/kpis/breakdown", params=params, headers=auth(client, "boss"))
    assert [r[0] for r in data] == [r["name"] for r in shown.json()["rows"]]
    pdf = client.get(
        "/api/v1/kpis/breakdown/export",
        params={**params, "format": "pdf"},
        headers=auth(client, "boss"),
    )
    assert pdf.status_code == 200
    assert "分社区" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)


def test_a_street_cannot_export_anothers_table(client: TestClient) -> None:
    r = client.get(
        "/api/v1/kpis/breakdown/export",
        params={"by": "community", "area": DAGUAN},
        headers=auth(client, "xh_street"),
    )
    assert r.status_code == 404
