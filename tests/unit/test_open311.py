"""Open311 GeoReport v2: the fields, status values, filters and error format of the
standard (wiki.open311.org/GeoReport_v2), a report becoming a case, and a reporter's
contact never listed back."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient

from cityeye.api.app import create_app
from cityeye.api.open311 import services_of
from cityeye.api.presenters import CLOSED_STATES
from cityeye.api.tokens import issue
from cityeye.domain import REPORT_CATEGORIES, CaseState, Event, Severity
from cityeye.live.pipeline import LivePipeline
from cityeye.scenarios import load_catalogue
from cityeye.scenarios.spec import SeverityMap
from cityeye.store import Store
from cityeye.store.requests import case_for, report_events
from cityeye.world import load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
V2 = "/open311/v2"
#: The fields of each element of the standard's answers.
SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
TRACKING = re.compile(r"^311-\d{8}-[0-9A-Z]{6}$")
#: Inside grid G0001 of the fixture world (its grid worker is 张网格员).
IN_G0001 = {"lat": "30.305", "long": "120.105"}
CATALOGUE_CATEGORIES = [
    "fire",
    "safety",
    "gas",
    "water",
    "road",
    "garbage",
    "noise",
    "parking",
    "greening",
    "other",
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'open311.db'}")
    s.save_world(load_world(FIXTURES / "world_small.yaml"))
    yield s
    s.close()


def client_for(pipeline: LivePipeline, *, open_ingest: bool = True) -> TestClient:
    return TestClient(
        create_app(pipeline.store, pipeline, wall_clock=False, open_ingest=open_ingest)
    )


@pytest.fixture
def pipeline(store: Store) -> LivePipeline:
    """Events are released at once: each report becomes a case as it arrives."""
    return LivePipeline(store, lateness_s=0)


@pytest.fixture
def client(pipeline: LivePipeline) -> TestClient:
    return client_for(pipeline)


def post(client: TestClient, fmt: str = "json", **form: str) -> httpx.Response:
    return client.post(f"{V2}/requests.{fmt}", data=form)


def report(client: TestClient, **form: str) -> str:
    """POST a valid request; its service_request_id."""
    fields = {"service_code": "garbage", "description": "垃圾桶满了"} | IN_G0001 | form
    r = post(client, **fields)
    assert r.status_code == 200, r.text
    return str(r.json()[0]["service_request_id"])


def errors_of(response: httpx.Response, code: int) -> list[str]:
    """The descriptions of a JSON error answer, checked for the standard's shape."""
    assert response.status_code == code, response.text
    body = response.json()
    assert isinstance(body, list)
    assert body
    for item in body:
        assert set(item) == {"code", "description"}
        assert item["code"] == code
    return [item["description"] for item in body]


def xml_rows(text: str, root: str, item: str) -> list[dict[str, str | None]]:
    top = ET.fromstring(text.encode())
    assert top.tag == root
    rows = []
    for element in top:
        assert element.tag == item
        rows.append({child.tag: child.text for child in element})
    return rows


def stored_event(store: Store, request_id: str) -> Event:
    event = store.get_event("open311", request_id)
    assert event is not None
    return event


def hotline_event(event_id: str, ts: datetime, category: str = "noise", **attrs: Any) -> Event:
    return Event(
        id=event_id,
        kind="report.hotline",
        ts=ts,
        source="hotline",
        attrs={"category": category, "text": "楼上装修噪音"} | attrs,
    )


# ---------------------------------------------------------------------- services
def test_services_are_the_reportable_categories_in_the_standards_fields(
    client: TestClient,
) -> None:
    r = client.get(f"{V2}/services.json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    services = r.json()
    assert [s["service_code"] for s in services] == CATALOGUE_CATEGORIES
    for s in services:
        assert set(s) == SERVICE_FIELDS
        assert s["metadata"] is False
        assert s["type"] == "realtime"
        assert isinstance(s["keywords"], str)
        assert s["keywords"]
        assert s["description"]
        assert s["group"]
    by_code = {s["service_code"]: s for s in services}
    assert by_code["fire"]["service_name"] == "火灾隐患 Fire hazard"
    assert by_code["garbage"]["service_name"].startswith(REPORT_CATEGORIES["garbage"].zh)


def test_services_come_from_the_scenarios_the_pipeline_holds(store: Store) -> None:
    catalogue = load_catalogue()
    report = next(s for s in catalogue if s.id == "citizen.report")
    severity = report.config.severity
    assert isinstance(severity, SeverityMap)
    # a district adds a category no table names, and drops every other scenario
    extra = severity.model_copy(update={"map": dict(severity.map) | {"potholes": Severity.MEDIUM}})
    report.config = report.config.model_copy(update={"severity": extra})
    client = client_for(LivePipeline(store, scenarios=[report], lateness_s=0))
    services = client.get(f"{V2}/services.json").json()
    codes = [s["service_code"] for s in services]
    assert codes == [*CATALOGUE_CATEGORIES, "potholes"]
    potholes = services[-1]
    assert potholes["service_name"] == "potholes"  # no name: the code itself
    # and it can be reported
    assert TRACKING.match(report_id := _post_id(client, "potholes"))
    assert report_id


def _post_id(client: TestClient, code: str) -> str:
    r = post(client, service_code=code, **IN_G0001)
    assert r.status_code == 200, r.text
    return str(r.json()[0]["service_request_id"])


def test_no_reportable_scenario_no_services(store: Store) -> None:
    scenarios = [s for s in load_catalogue() if not s.config.reportable]
    assert services_of(scenarios) == []
    client = client_for(LivePipeline(store, scenarios=scenarios))
    assert client.get(f"{V2}/services.json").json() == []
    errors = errors_of(post(client, service_code="garbage", **IN_G0001), 400)
    assert errors[0].startswith("service_code:")


def test_services_xml_is_the_standards_shape(client: TestClient) -> None:
    r = client.get(f"{V2}/services.xml")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/xml")
    assert r.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    rows = xml_rows(r.text, "services", "service")
    assert [row["service_code"] for row in rows] == CATALOGUE_CATEGORIES
    assert all(set(row) == SERVICE_FIELDS for row in rows)
    assert {row["metadata"] for row in rows} == {"false"}
    assert {row["type"] for row in rows} == {"realtime"}
    assert rows[0]["service_name"] == "火灾隐患 Fire hazard"


def test_unknown_format_and_service_definition(client: TestClient) -> None:
    assert client.get(f"{V2}/services.csv").status_code == 404
    definition = client.get(f"{V2}/services/noise.json")
    assert definition.json() == {"service_code": "noise", "attributes": []}
    errors = errors_of(client.get(f"{V2}/services/nope.json"), 404)
    assert errors[0].startswith("service_code:")


# ---------------------------------------------------------------------- POST
def test_post_stores_one_citizen_report_and_answers_the_tracking_number(
    client: TestClient, store: Store
) -> None:
    before = datetime.now(UTC)
    r = post(
        client,
        service_code="road",
        description="井盖缺失，很危险",
        address_string="长征桥路 12 号",
        media_url="https://img.example.org/a.jpg",
        **IN_G0001,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body) == 1
    assert set(body[0]) == {"service_request_id", "service_notice", "account_id"}
    assert body[0]["account_id"] is None
    assert body[0]["service_notice"]
    request_id = body[0]["service_request_id"]
    assert TRACKING.match(request_id), request_id
    # numbered by the district's day (Asia/Shanghai), not UTC's: after 16:00 UTC the
    # tracking number already carries tomorrow's date
    assert request_id[4:12] == datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d")
    assert store.event_count() == 1
    event = stored_event(store, request_id)
    assert event.kind == "report.citizen"
    assert event.source == "open311"
    assert before <= event.ts <= datetime.now(UTC)
    assert (event.lat, event.lon) == (30.305, 120.105)
    assert event.attrs == {
        "category": "road",
        "text": "井盖缺失，很危险",
        "address": "长征桥路 12 号",
        "media_url": "https://img.example.org/a.jpg",
    }


def test_post_xml_answers_in_xml(client: TestClient) -> None:
    r = post(client, "xml", service_code="noise", address_string="小河路 1 号")
    assert r.status_code == 200, r.text
    rows = xml_rows(r.text, "service_requests", "request")
    assert len(rows) == 1
    assert set(rows[0]) == {"service_request_id", "service_notice", "account_id"}
    assert TRACKING.match(rows[0]["service_request_id"] or "")
    assert rows[0]["account_id"] is None


def test_tracking_numbers_are_unique(client: TestClient, store: Store) -> None:
    ids = {report(client) for _ in range(40)}
    assert len(ids) == 40
    assert store.event_count() == 40


def test_contact_is_kept_only_masked_and_never_listed(client: TestClient, store: Store) -> None:
    request_id = report(
        client,
        phone="138-1234-5678",
        email="wang.ayi@example.com",
        first_name="秀英",
        last_name="王",
        device_id="phone-abc",
        account_id="acct-42",
        description="门口堆满垃圾，电话 13900001111",
    )
    event = stored_event(store, request_id)
    assert event.attrs["reporter"] == "138****5678"
    raw = str(event.to_json())
    for secret in ("13812345678", "138-1234-5678", "wang.ayi", "秀英", "acct-42", "phone-abc"):
        assert secret not in raw
    assert "13900001111" not in event.attrs["text"]  # numbers in the text masked too
    case = case_for(store, f"open311/{request_id}")
    assert case is not None
    assert case.reporter == "138****5678"  # the case book can still tell them
    listed = client.get(f"{V2}/requests.json").text + client.get(f"{V2}/requests.xml").text
    for secret in ("138****5678", "5678", "example.com", "秀英", "王", "acct-42"):
        assert secret not in listed


def test_email_only_contact_is_masked(client: TestClient, store: Store) -> None:
    request_id = report(client, email="wang.ayi@example.com")
    assert stored_event(store, request_id).attrs["reporter"] == "w***@example.com"


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"service_code": "nope", **IN_G0001}, "service_code"),
        ({**IN_G0001}, "service_code"),
        ({"service_code": "road", "lat": "north", "long": "120.1"}, "lat"),
        ({"service_code": "road", "lat": "30.3", "long": "1e999"}, "long"),
        ({"service_code": "road", "lat": "91", "long": "120.1"}, "lat"),
        ({"service_code": "road", "lat": "30.3", "long": "-180.5"}, "long"),
        ({"service_code": "road", "lat": "30.3"}, "long"),
        ({"service_code": "road", "description": "没有地点"}, "lat"),
        ({"service_code": "road", **IN_G0001, "description": "长" * 4001}, "description"),
        ({"service_code": "road", "address_string": "x" * 501}, "address_string"),
        ({"service_code": "road", **IN_G0001, "media_url": "ftp://a.example/x.jpg"}, "media_url"),
        ({"service_code": "road", **IN_G0001, "media_url": "javascript:alert(1)"}, "media_url"),
        ({"service_code": "road", **IN_G0001, "media_url": "https:///nohost"}, "media_url"),
        ({"service_code": "road", **IN_G0001, "email": "not-an-email"}, "email"),
        ({"service_code": "road", **IN_G0001, "phone": "call me"}, "phone"),
        ({"service_code": "road", "address_string": "a\x00b"}, "address_string"),
    ],
)
def test_bad_request_is_refused_naming_the_field(
    client: TestClient, store: Store, form: dict[str, str], field: str
) -> None:
    errors = errors_of(post(client, **form), 400)
    assert any(e.startswith(f"{field}: ") for e in errors), errors
    assert store.event_count() == 0


def test_every_bad_field_is_named_at_once_and_xml_errors_have_the_standards_shape(
    client: TestClient, store: Store
) -> None:
    form = {"service_code": "nope", "lat": "x", "long": "200", "media_url": "file:///etc"}
    fields = {e.split(":")[0] for e in errors_of(post(client, **form), 400)}
    assert fields == {"service_code", "lat", "long", "media_url"}
    r = post(client, "xml", **form)
    assert r.status_code == 400
    top = ET.fromstring(r.content)
    assert top.tag == "errors"
    errors = [{c.tag: c.text for c in e} for e in top]
    assert all(set(e) == {"code", "description"} for e in errors)
    assert {e["code"] for e in errors} == {"400"}
    assert {(e["description"] or "").split(":")[0] for e in errors} == fields
    assert store.event_count() == 0


def test_non_form_body_is_refused(client: TestClient) -> None:
    r = client.post(
        f"{V2}/requests.json", json={"service_code": "road", "lat": 30.3, "long": 120.1}
    )
    assert errors_of(r, 400)[0].startswith("content-type:")


def test_an_oversize_body_is_refused_with_413_and_nothing_stored(
    client: TestClient, store: Store
) -> None:
    r = post(client, service_code="road", description="长" * 30_000, **IN_G0001)  # ~90 KB
    assert errors_of(r, 413)[0].startswith("body:")
    assert store.event_count() == 0


# ---------------------------------------------------------------------- auth
def test_without_open_ingest_a_valid_open311_token_is_needed(store: Store) -> None:
    client = client_for(LivePipeline(store, lateness_s=0), open_ingest=False)
    form = {"service_code": "road"} | IN_G0001
    assert errors_of(post(client, **form), 403)[0].startswith("api_key:")
    assert errors_of(post(client, **form, api_key="ce_abc_wrong"), 403)[0].startswith("api_key:")
    r = post(client, "xml", **form, api_key="nonsense")
    assert r.status_code == 403
    assert ET.fromstring(r.content).tag == "errors"
    wrong_source = issue(store, label="gateway", source="gw").secret
    assert errors_of(post(client, **form, api_key=wrong_source), 403)[0].startswith("api_key:")
    device = issue(store, label="meter", device_id="D2").secret
    assert errors_of(post(client, **form, api_key=device), 403)
    assert store.event_count() == 0
    good = issue(store, label="城市服务 app", source="open311").secret
    r = post(client, **form, api_key=good)
    assert r.status_code == 200, r.text
    assert store.event_count() == 1
    store.revoke_api_token(good.split("_")[1], datetime.now(UTC))
    assert errors_of(post(client, **form, api_key=good), 403)
    # reading is open: the standard lets anyone follow requests
    assert client.get(f"{V2}/requests.json").status_code == 200
    assert client.get(f"{V2}/services.json").status_code == 200


# ---------------------------------------------------------------------- GET requests
def test_requests_list_in_the_standards_fields(store: Store) -> None:
    # a report is decided on arrival: its case is dispatched before the answer comes
    client = client_for(LivePipeline(store))
    request_id = report(client, address_string="长征桥路 12 号", address_id="A-77")
    r = client.get(f"{V2}/requests.json")
    assert r.status_code == 200
    (row,) = r.json()
    assert set(row) == REQUEST_FIELDS
    assert row["service_request_id"] == request_id
    assert row["status"] == "open"
    assert row["service_code"] == "garbage"
    assert row["service_name"] == REPORT_CATEGORIES["garbage"].name
    assert row["description"] == "垃圾桶满了"
    assert (row["address"], row["address_id"]) == ("长征桥路 12 号", "A-77")
    assert (row["lat"], row["long"]) == (30.305, 120.105)
    assert row["agency_responsible"] == "张网格员"
    assert row["expected_datetime"] is not None
    assert row["zipcode"] is None
    requested = datetime.fromisoformat(row["requested_datetime"])
    assert requested.tzinfo is not None
    assert abs(requested - datetime.now(UTC)) < timedelta(minutes=1)
    assert datetime.fromisoformat(row["updated_datetime"]) >= requested


def test_one_request_is_a_list_of_one_and_an_unknown_one_is_404(client: TestClient) -> None:
    request_id = report(client)
    other = report(client)
    r = client.get(f"{V2}/requests/{request_id}.json")
    assert r.status_code == 200
    body = r.json()
    assert [row["service_request_id"] for row in body] == [request_id]
    assert set(body[0]) == REQUEST_FIELDS
    rows = xml_rows(client.get(f"{V2}/requests/{other}.xml").text, "service_requests", "request")
    assert [row["service_request_id"] for row in rows] == [other]
    assert set(rows[0]) == REQUEST_FIELDS
    errors = errors_of(client.get(f"{V2}/requests/311-20000101-NOPE00.json"), 404)
    assert "311-20000101-NOPE00" in errors[0]
    r = client.get(f"{V2}/requests/311-20000101-NOPE00.xml")
    assert r.status_code == 404
    assert ET.fromstring(r.content).tag == "errors"


def test_hotline_reports_are_listed_too_newest_first(
    client: TestClient, pipeline: LivePipeline
) -> None:
    now = datetime.now(UTC)
    pipeline.ingest(
        [
            hotline_event("HL-1", now - timedelta(days=2), phone="138****1234"),
            hotline_event("HL-2", now - timedelta(days=1), category="garbage"),
            Event("other", "door.open", now, "gw"),  # not a report
        ]
    )
    request_id = report(client)
    rows = client.get(f"{V2}/requests.json").json()
    assert [r["service_request_id"] for r in rows] == [request_id, "HL-2", "HL-1"]
    assert rows[2]["service_name"] == "噪声扰民 Noise"
    assert "1234" not in str(rows)


def test_filters_service_code_status_and_ids(client: TestClient, pipeline: LivePipeline) -> None:
    now = datetime.now(UTC)
    pipeline.ingest([hotline_event("HL-1", now - timedelta(hours=1))])
    garbage, road = report(client), report(client, service_code="road")

    def ids(**params: str) -> list[str]:
        r = client.get(f"{V2}/requests.json", params=params)
        assert r.status_code == 200, r.text
        return [row["service_request_id"] for row in r.json()]

    assert ids(service_code="road") == [road]
    assert ids(service_code="garbage,noise") == [garbage, "HL-1"]
    assert ids(service_code="fire") == []
    assert set(ids(status="open")) == {garbage, road, "HL-1"}
    assert ids(status="closed") == []
    assert set(ids(status="open,closed")) == {garbage, road, "HL-1"}
    # service_request_id overrides every other filter
    assert ids(service_request_id=f"{road},HL-1", service_code="fire", status="closed") == [
        road,
        "HL-1",
    ]
    xml = client.get(f"{V2}/requests.xml", params={"service_code": "road"}).text
    assert [r["service_request_id"] for r in xml_rows(xml, "service_requests", "request")] == [road]
    errors = errors_of(client.get(f"{V2}/requests.json", params={"status": "pending"}), 400)
    assert errors[0].startswith("status:")


def test_dates_default_to_the_last_90_days(client: TestClient, pipeline: LivePipeline) -> None:
    now = datetime.now(UTC)
    pipeline.ingest(
        [
            hotline_event("old", now - timedelta(days=100)),
            hotline_event("recent", now - timedelta(days=89)),
        ]
    )

    def ids(**params: str) -> list[str]:
        r = client.get(f"{V2}/requests.json", params=params)
        assert r.status_code == 200, r.text
        return [row["service_request_id"] for row in r.json()]

    assert ids() == ["recent"]
    day = timedelta(days=1)
    w3c = "%Y-%m-%dT%H:%M:%SZ"
    window = {
        "start_date": (now - 101 * day).strftime(w3c),
        "end_date": (now - 99 * day).strftime(w3c),
    }
    assert ids(**window) == ["old"]
    assert ids(end_date=(now - 95 * day).isoformat()) == ["old"]
    assert ids(start_date=(now - 185 * day).isoformat()) == ["old"]  # 90 days from start
    assert ids(start_date=(now - 60 * day).isoformat()) == []
    assert ids(start_date=(now - 90 * day).strftime(w3c)) == ["recent"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2026-13-01T00:00:00Z"}, "end_date"),
        ({"start_date": "2026-10-01T00:00:00"}, "start_date"),  # no offset
        ({"start_date": "2026-10-02T00:00:00Z", "end_date": "2026-10-01T00:00:00Z"}, "start_date"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "end_date"),
    ],
)
def test_bad_dates_are_400_naming_the_parameter(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    errors = errors_of(client.get(f"{V2}/requests.json", params=params), 400)
    assert errors[0].startswith(f"{field}:"), errors
    r = client.get(f"{V2}/requests.xml", params=params)
    assert r.status_code == 400
    assert (ET.fromstring(r.content).findtext("error/description") or "").startswith(field)


def test_at_most_1000_requests(client: TestClient, store: Store) -> None:
    now = datetime.now(UTC)
    events = [hotline_event(f"HL-{i:04d}", now - timedelta(minutes=i)) for i in range(1005)]
    store.add_events(events, now)
    rows = client.get(f"{V2}/requests.json").json()
    assert len(rows) == 1000
    assert rows[0]["service_request_id"] == "HL-0000"
    assert rows[-1]["service_request_id"] == "HL-0999"
    assert len(report_events(store, limit=None)) == 1005


# ---------------------------------------------------------------------- cases
def action(request_id: str, seconds: float, name: str, **attrs: str) -> Event:
    """A ``case.action`` on the request's case, ``seconds`` from now."""
    return Event(
        id=f"act-{request_id}-{name}",
        kind="case.action",
        ts=datetime.now(UTC) + timedelta(seconds=seconds),
        source="app",
        attrs={"scenario": "citizen.report", "key": f"open311/{request_id}", "action": name}
        | attrs,
    )


def test_a_request_follows_its_case_from_open_to_closed(store: Store) -> None:
    pipeline = LivePipeline(store)  # the default 10-minute lateness
    client = client_for(pipeline)
    request_id = report(client, description="小区门口垃圾堆积")
    one = f"{V2}/requests/{request_id}.json"

    # decided on arrival, not after the lateness: a case, dispatched at once
    case = case_for(store, f"open311/{request_id}")
    assert case is not None
    assert case.state == CaseState.DISPATCHED
    row = client.get(one).json()[0]
    assert row["status"] == "open"
    assert row["agency_responsible"] == "张网格员"  # the lead party of grid G0001
    assert row["expected_datetime"] is not None
    assert case.due_at is not None
    assert datetime.fromisoformat(row["expected_datetime"]) == case.due_at
    assert row["status_notes"] == "派给 张网格员"
    assert datetime.fromisoformat(row["updated_datetime"]) >= datetime.fromisoformat(
        row["requested_datetime"]
    )

    # the grid worker accepts and handles it: handled counts as closed
    pipeline.ingest(
        [
            action(request_id, 700, "accept", role="handler"),
            action(request_id, 800, "handle", role="handler", note="已清运完毕"),
        ]
    )
    pipeline.tick(datetime.now(UTC) + timedelta(seconds=1500))
    case = case_for(store, f"open311/{request_id}")
    assert case is not None
    assert case.state == CaseState.HANDLED
    assert case.state in CLOSED_STATES
    row = client.get(one).json()[0]
    assert row["status"] == "closed"
    assert row["status_notes"] == "已清运完毕"

    def listed(status: str) -> list[str]:
        r = client.get(f"{V2}/requests.json", params={"status": status})
        return [x["service_request_id"] for x in r.json()]

    assert listed("closed") == [request_id]
    assert listed("open") == []

    # the reporter rejects the handling: open again
    pipeline.ingest([action(request_id, 1600, "reopen", role="reporter", note="没清干净")])
    pipeline.tick(datetime.now(UTC) + timedelta(seconds=2400))
    row = client.get(one).json()[0]
    assert row["status"] == "open"
    assert row["status_notes"] == "没清干净"
    assert listed("open") == [request_id]


def test_a_dismissed_case_is_closed(store: Store) -> None:
    pipeline = LivePipeline(store, lateness_s=0)
    client = client_for(pipeline)
    request_id = report(client)
    pipeline.ingest([action(request_id, 5, "dismiss", role="dispatcher", note="重复上报")])
    pipeline.tick(datetime.now(UTC) + timedelta(seconds=10))
    row = client.get(f"{V2}/requests/{request_id}.xml").text
    (parsed,) = xml_rows(row, "service_requests", "request")
    assert parsed["status"] == "closed"
    assert parsed["status_notes"] == "重复上报"


def test_working_notes_between_staff_are_not_published(store: Store) -> None:
    pipeline = LivePipeline(store, lateness_s=0)
    client = client_for(pipeline)
    request_id = report(client)
    pipeline.ingest(
        [
            action(request_id, 5, "accept", role="handler"),
            action(request_id, 6, "progress", role="handler", note="内部：业主电话 138xxxx"),
        ]
    )
    pipeline.tick(datetime.now(UTC) + timedelta(seconds=10))
    case = case_for(store, f"open311/{request_id}")
    assert case is not None
    assert case.timeline[-1].action == "progress"  # it is on the case
    row = client.get(f"{V2}/requests/{request_id}.json").json()[0]
    assert "内部" not in str(row)
