"""The names the pages show come from the enums, through one endpoint.

``GET /api/v1/meta`` serves every labelled enum's own names (walked here, member by
member) (issue 16)."""

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
from cityeye.domain import REPORT_CATEGORIES
from cityeye.domain.labels import Labelled
from cityeye.store import Store

DOCS = Path(__file__).resolve().parents[2] / "docs"
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
    assert set(body) == {*GROUPS, "report_categories"}


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
    assert "/api/v1/meta" in (DOCS / "api.md").read_text(encoding="utf-8")
