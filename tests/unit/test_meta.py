"""The names the pages show come from the enums, through one endpoint and one script.

``GET /api/v1/meta`` serves every labelled enum's own names (walked here, member by
member); the page scripts keep no table of their own for any of them — the scan below
would find one coming back — and no second DOM helper, date formatting or CSRF
handling beside ``static/common.js``, which every page loads before its own script
(issue 16)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import cityeye.api.app  # noqa: F401  (imports every module a page's names come from)
from cityeye.api.app import create_app
from cityeye.api.meta import GROUPS, meta
from cityeye.cases import book
from cityeye.cases.lifecycle import Action, Note, Record
from cityeye.domain import DEVICE_KINDS, REPORT_CATEGORIES
from cityeye.domain.labels import Labelled
from cityeye.domain.participation import SUGGESTION_CATEGORIES
from cityeye.store import Store

WEB = Path(__file__).resolve().parents[2] / "src" / "cityeye" / "web"
STATIC = WEB / "static"
PAGES = ("desk", "portal", "cockpit", "council", "board", "surveys", "visits")
PAGE_SCRIPTS = sorted(p for page in PAGES for p in (STATIC / page).glob("*.js"))
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    store = Store.open(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        yield TestClient(create_app(store))
    finally:
        store.close()


def _labelled() -> set[type[Labelled]]:
    found: set[type[Labelled]] = set()
    todo = list(Labelled.__subclasses__())
    while todo:
        kind = todo.pop()
        found.add(kind)
        todo += kind.__subclasses__()
    return found


# ---------------------------------------------------------------------- the enums


def test_every_labelled_enum_is_served() -> None:
    """A new labelled enum is a group of /meta, or the pages could not name it."""
    assert _labelled() == set(GROUPS.values())


def test_every_member_has_both_names() -> None:
    for kind in _labelled():
        for member in kind:
            assert CJK.search(member.zh), f"{kind.__name__}.{member.name}: {member.zh!r}"
            assert member.en.strip(), (kind.__name__, member)
            assert not CJK.search(member.en), (kind.__name__, member)
            assert member.label == f"{member.zh} {member.en}"


def test_a_member_without_its_names_is_refused() -> None:
    with pytest.raises(ValueError, match="Chinese and English"):

        class Half(Labelled):
            ONE = "one", "一"

    # and a lookup by value, the way everything reads a stored value, is unchanged
    assert Action("accept") is Action.ACCEPT
    assert Action.ACCEPT == "accept"
    assert f"{Action.ACCEPT}" == "accept"


def test_the_public_properties_keep_their_words() -> None:
    """What the API's JSON (state_zh, …), notices and the command line already said."""
    from cityeye.domain import CaseState, Severity
    from cityeye.domain.participation import TopicStep
    from cityeye.domain.users import UserRole

    assert CaseState.DISPATCHED.zh == "已派遣"
    assert CaseState.SELF_RESOLVED.zh == "自动消警"
    assert Severity.CRITICAL.zh == "紧急"
    assert UserRole.DISPATCHER.label == "调度员 dispatcher"
    assert (TopicStep.VOTE.zh, TopicStep.VOTE.en) == ("居民表决", "Residents vote")


def test_every_timeline_action_has_a_name() -> None:
    """The case book writes only moves, notes and its own records on a timeline (no
    string of its own that the pages could not name)."""
    tree = ast.parse(Path(book.__file__).read_text(encoding="utf-8"))
    written = []
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "_note":
            action = call.args[2]
            assert isinstance(action, ast.Attribute), ast.unparse(call)
            assert isinstance(action.value, ast.Name), ast.unparse(call)
            assert action.value.id in ("Note", "Record"), ast.unparse(call)
            written.append(action.attr)
    assert {"OPEN", "ALERT_JOINED", "PRIORITY_RAISED", "REPORTED_LATE"} <= set(written)
    names = meta()
    timeline = {*names["actions"], *names["notes"], *names["records"]}
    assert timeline == {m.value for kind in (Action, Note, Record) for m in kind}


# ---------------------------------------------------------------------- the endpoint


def test_meta_serves_the_enums_own_names(client: TestClient) -> None:
    got = client.get("/api/v1/meta")  # nobody signed in: it holds no data
    assert got.status_code == 200
    body = got.json()
    for group, kind in GROUPS.items():
        assert body[group] == {m.value: {"zh": m.zh, "en": m.en} for m in kind}, group
        assert list(body[group]) == [m.value for m in kind]  # the enum's order (the steps)
    assert body["report_categories"] == {
        c.code: {"zh": c.zh, "en": c.en} for c in REPORT_CATEGORIES.values()
    }
    assert body["device_kinds"] == {d.kind: {"zh": d.zh, "en": d.en} for d in DEVICE_KINDS.values()}
    assert body["suggestion_categories"] == {
        c.code: {"zh": c.zh, "en": c.en} for c in SUGGESTION_CATEGORIES
    }
    assert set(body) == {*GROUPS, "report_categories", "device_kinds", "suggestion_categories"}


def test_meta_is_cached_by_its_etag(client: TestClient) -> None:
    first = client.get("/api/v1/meta")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"  # kept, and asked again each time
    again = client.get("/api/v1/meta", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = client.get("/api/v1/meta", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200
    assert other.json() == first.json()


def test_meta_is_in_the_api_description(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/meta" in paths
    assert "/api/v1/meta" in (WEB.parents[2] / "docs" / "api.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------------- the pages


def test_every_page_loads_common_js_before_its_own_script() -> None:
    for page in PAGES:
        html = (WEB / "templates" / f"{page}.html").read_text(encoding="utf-8")
        scripts = re.findall(r'<script src="([^"]+)"></script>', html)
        own = scripts.index(f"/static/{page}/{page}.js")
        assert "/static/common.js" in scripts[:own], (page, scripts)
        assert "<script>" not in html  # the CSP allows no inline script
    assert not (STATIC / "session.js").exists()  # folded into common.js: one copy
    assert not (STATIC / "clock.js").exists()


def _label_keys(source: str) -> list[tuple[str, str]]:
    """(key, Chinese text) pairs that look like a label table's entries: ``accept:
    "受理 Accept"``, ``"low": ["低", "low"]``, ``{ code: "vote", zh: "居民表决" }``,
    ``["volunteer", "志愿者"]``."""
    string = r"""(["'])((?:\\.|(?!\{q}).)*)\{q}"""
    pairs = []
    key_value = r"""(?<![\w$.])["']?([A-Za-z_]\w*)["']?\s*:\s*\[?\s*""" + string.format(q=2)
    for m in re.finditer(key_value, source):
        pairs.append((m.group(1), m.group(3)))
    code_zh = r"""\bcode\s*:\s*["'](\w+)["']\s*,\s*zh\s*:\s*""" + string.format(q=2)
    for m in re.finditer(code_zh, source):
        pairs.append((m.group(1), m.group(3)))
    array = r"""\[\s*["'](\w+)["']\s*,\s*""" + string.format(q=2)
    for m in re.finditer(array, source):
        pairs.append((m.group(1), m.group(3)))
    return [(key, text) for key, text in pairs if CJK.search(text)]


def _strings(source: str) -> list[str]:
    return [m.group(2) for m in re.finditer(r"""(["'])((?:\\.|(?!\1).)*)\1""", source)]


def label_tables(source: str) -> list[str]:
    """The groups of /meta a script restates names of: three entries keyed by its
    values (both, for a group of two), two whose words are the group's own, or three
    of its Chinese names in a list of their own."""
    found = []
    pairs = _label_keys(source)
    strings = _strings(source)
    for group, names in meta().items():
        keyed = {key for key, _ in pairs if key in names}
        same = {key for key, text in pairs if key in names and names[key]["zh"] in text}
        listed = {s for s in strings if s in {n["zh"] for n in names.values()}}
        if (
            len(keyed) >= min(3, len(names))
            or len(same) >= 2
            or (len(names) >= 3 and len(listed) >= 3)
        ):
            found.append(group)
    return found


@pytest.mark.parametrize(
    "copy",
    [
        'const LABEL = { accept: "受理 Accept", arrive: "到场 On site", handle: "处置完成" };',
        'const SEVERITY = { low: "低", medium: "中", high: "高", critical: "紧急" };',
        'const ROLE = { handler: "处置人员", dispatcher: "调度员", admin: "管理员" };',
        'const ALERT = { dispatched: ["新派工单", "New"], critical: ["紧急工单", "Critical"] };',
        'const MODES = { online: ["线上", "Online"], offline: ["线下", "Offline"] };',
        'const S = [{ code: "propose", zh: "提出议题" }, { code: "opinions", zh: "广开言路" },'
        ' { code: "consult", zh: "民主协商" }];',
        'const SIX = ["提出议题", "广开言路", "民主协商", "拟订方案", "居民表决", "形成决议"];',
        'for (const [v] of [["portal", "门户"], ["volunteer", "志愿者"], ["worker", "网格"]]) {}',
        'const T = { zh: { module: { city_management: "城市管理", emergency: "应急管理",'
        ' market: "市场监管" } } };',
    ],
)
def test_the_scan_finds_a_label_table(copy: str) -> None:
    assert label_tables(copy), copy


@pytest.mark.parametrize(
    "fine",
    [
        # colours by severity, states listed by role, a page's own words
        'const SEV = { low: "#3498db", medium: "#f5b041", high: "#e67e22", critical: "#e74c3c" };',
        'const LISTED = { handler: WORKING, dispatcher: ["reported", "handled"], admin: ["x"] };',
        'const HOME = { handler: "/desk", dispatcher: "/desk", leader: "/cockpit" };',
        'const T = { zh: { closed: "办结", open: "在办工单", close: "关闭", due: "应办" } };',
        'button("形成决议", "Adopt the resolution", "resolve");',
    ],
)
def test_the_scan_lets_a_page_keep_its_own_words(fine: str) -> None:
    assert label_tables(fine) == [], fine


@pytest.mark.parametrize("script", PAGE_SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_page_script_keeps_its_own_names(script: Path) -> None:
    """States, severities, moves, roles, modules … are named by common.js's ``names``
    (GET /api/v1/meta), never by a table in the page."""
    assert label_tables(script.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("script", PAGE_SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_page_script_keeps_its_own_helpers(script: Path) -> None:
    """One DOM helper, one way to format a time (in the district's zone), one place
    for the CSRF value: common.js's. A page script makes elements with ``el``/``bi``,
    times with ``time.*`` and changes through ``request``/``api``."""
    source = script.read_text(encoding="utf-8")
    if script.name in ("sw.js", "login.js"):
        return  # the service worker has no page; sign-in comes before any session
    for copy in (
        r"function (el|text|bi|bilingual)\b",
        r"\.innerHTML\s*=",
        r"toLocale(Date|Time)?String",
        r"Intl\.DateTimeFormat",
        r"document\.cookie",
        r"x-csrf-token",
    ):
        assert not re.search(copy, source), f"{script.name}: {copy}"
