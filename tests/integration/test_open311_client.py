"""A real Open311 client (``georeport``, which speaks GeoReport v2 over requests and
xmltodict) against a real ``cityeye serve`` process: the standard as third-party apps
use it. The client only reads; requests are POSTed form-encoded, as a spec client does."""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from georeport import GeoReport
from requests import HTTPError
from typer.testing import CliRunner

from cityeye.cli import app
from serving import free_port, start_serve, wait_until_serving

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TRACKING = re.compile(r"^311-\d{8}-[0-9A-Z]{6}$")
CATEGORIES = [
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


def load_world(url: str) -> None:
    loaded = CliRunner().invoke(
        app, ["world", "load", str(FIXTURES / "world_small.yaml"), "--db", url]
    )
    assert loaded.exit_code == 0, loaded.output


@contextmanager
def serve(url: str, *extra: str) -> Iterator[str]:
    port = free_port()
    proc = start_serve("--db", url, "--host", "127.0.0.1", "--port", str(port), *extra)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{base}/healthz", proc)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture
def open_server(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'open311.db'}"
    load_world(url)
    with serve(url, "--open-ingest") as base:
        yield base


def post(base: str, fmt: str = "json", **form: str) -> httpx.Response:
    return httpx.post(f"{base}/open311/v2/requests.{fmt}", data=form, timeout=10)


def test_georeport_client_lists_services_follows_requests_and_filters(open_server: str) -> None:
    client = GeoReport(root_address=f"{open_server}/open311/v2")
    services = client.get_service_list()
    assert [s["service_code"] for s in services] == CATEGORIES
    assert services[0]["service_name"] == "火灾隐患 Fire hazard"
    assert {s["type"] for s in services} == {"realtime"}
    assert {s["metadata"] for s in services} == {False}

    xml_client = GeoReport(root_address=f"{open_server}/open311/v2", output_format="xml")
    xml_services = xml_client.get_service_list()
    assert [s["service_code"] for s in xml_services] == CATEGORIES
    assert xml_services[0]["service_name"] == "火灾隐患 Fire hazard"
    assert {s["metadata"] for s in xml_services} == {"false"}

    r = post(
        open_server,
        service_code="road",
        lat="30.305",
        long="120.105",
        address_string="长征桥路 12 号",
        description="井盖缺失",
        phone="13812345678",
        media_url="https://img.example.org/manhole.jpg",
    )
    assert r.status_code == 200, r.text
    (created,) = r.json()
    road = created["service_request_id"]
    assert TRACKING.match(road)
    assert created["account_id"] is None
    r = post(open_server, "xml", service_code="noise", address_string="小河路 1 号")
    assert r.status_code == 200, r.text
    noise = re.search(r"<service_request_id>([^<]+)</service_request_id>", r.text)
    assert noise is not None
    noise_id = noise.group(1)

    one = client.get_service_request(road)
    assert one["service_request_id"] == road
    assert one["status"] == "open"  # the engine holds it for the lateness first
    assert one["service_code"] == "road"
    assert one["description"] == "井盖缺失"
    assert (one["lat"], one["long"]) == (30.305, 120.105)
    assert one["media_url"] == "https://img.example.org/manhole.jpg"
    assert "13812345678" not in str(one)
    assert "5678" not in str(one)

    one_xml = xml_client.get_service_request(noise_id)
    assert one_xml["service_request_id"] == noise_id
    assert one_xml["service_code"] == "noise"
    assert one_xml["status"] == "open"
    assert one_xml["address"] == "小河路 1 号"

    everything = client.get_service_requests()
    assert [x["service_request_id"] for x in everything] == [noise_id, road]  # newest first
    assert [x["service_request_id"] for x in client.get_service_requests(service_code="road")] == [
        road
    ]
    assert client.get_service_requests(status="closed") == []
    both = client.get_service_requests(service_request_id=f"{road},{noise_id}", status="closed")
    assert {x["service_request_id"] for x in both} == {road, noise_id}
    now = datetime.now(UTC)
    w3c = "%Y-%m-%dT%H:%M:%SZ"
    assert (
        client.get_service_requests(
            start_date=(now - timedelta(days=3)).strftime(w3c),
            end_date=(now - timedelta(days=2)).strftime(w3c),
        )
        == []
    )
    recent = client.get_service_requests(
        start_date=(now - timedelta(hours=1)).strftime(w3c),
        end_date=(now + timedelta(hours=1)).strftime(w3c),
    )
    assert {x["service_request_id"] for x in recent} == {road, noise_id}
    xml_road = xml_client.get_service_requests(service_code="road")
    assert xml_road["service_request_id"] == road  # xmltodict: a single element is a dict

    with pytest.raises(HTTPError) as missing:
        client.get_service_request("311-20000101-NOPE00")
    assert missing.value.response.status_code == 404
    assert missing.value.response.json()[0]["code"] == 404
    with pytest.raises(HTTPError) as bad:
        client.get_service_requests(start_date="last week")
    assert bad.value.response.status_code == 400
    assert bad.value.response.json()[0]["description"].startswith("start_date:")

    refused = post(open_server, service_code="road", lat="95", long="120.1")
    assert refused.status_code == 400
    assert refused.json()[0]["description"].startswith("lat:")


def test_without_open_ingest_a_cli_token_for_source_open311_is_needed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tokens.db'}"
    load_world(url)
    made = CliRunner().invoke(
        app, ["token", "add", "--label", "城市服务 app", "--source", "open311", "--db", url]
    )
    assert made.exit_code == 0, made.output
    found = re.search(r"ce_[0-9a-f]+_\S+", made.output)
    assert found is not None, made.output
    secret = found.group(0)
    with serve(url) as base:
        form = {"service_code": "garbage", "lat": "30.305", "long": "120.105"}
        refused = post(base, **form)
        assert refused.status_code == 403
        assert refused.json()[0]["description"].startswith("api_key:")
        refused = post(base, "xml", **form, api_key="ce_000000000000_wrong")
        assert refused.status_code == 403
        assert "<errors><error><code>403</code>" in refused.text
        accepted = post(base, **form, api_key=secret)
        assert accepted.status_code == 200, accepted.text
        request_id = accepted.json()[0]["service_request_id"]
        listed = GeoReport(root_address=f"{base}/open311/v2").get_service_requests()
        assert [x["service_request_id"] for x in listed] == [request_id]
