"""One error family (cityeye.errors): every exception cityeye defines descends from
CityeyeError and keeps the builtin base its callers catch, and the API turns each
family into its HTTP status through the one handler of cityeye.api.app."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import cityeye
from cityeye import errors
from cityeye.api.app import STATUS, create_app, status_for
from cityeye.api.hardening import BodyTooLarge
from cityeye.api.open311 import Open311Error
from cityeye.api.tokens import TokenError
from cityeye.cases import TransitionError
from cityeye.demo.participation import AlreadySeeded
from cityeye.errors import (
    AuthError,
    CityeyeError,
    ConflictError,
    FieldError,
    InputError,
    NotFoundError,
    Problem,
    ProblemsError,
    RefusedError,
    ServiceError,
)
from cityeye.ingest.hotline import HotlineError
from cityeye.ingest.mqtt_map import MqttMapError
from cityeye.live.pipeline import AnalysisGone
from cityeye.nats_client import BusError
from cityeye.notifiers import DeliveryError, NotifyError
from cityeye.participation.service import Conflict, NotFound
from cityeye.participation.workflow import Blocked, Refused
from cityeye.scenarios import ScenarioError
from cityeye.scenarios.spec import LoadResult
from cityeye.sourcefile import SourceError
from cityeye.store import Store
from cityeye.store.users import UserExists
from cityeye.world import WorldError

SRC = Path(cityeye.__file__).resolve().parent

#: Exceptions defined under src/cityeye that are not CityeyeErrors, each with its
#: reason. None today: even the internal signals (the body limit's BodyTooLarge, the
#: bus's _Away) are in the family.
NOT_IN_THE_FAMILY: dict[str, str] = {}

#: Direct children of CityeyeError that belong to no family, so no handler answers
#: them: each router that raises one answers it itself.
NO_FAMILY = {Open311Error, BodyTooLarge}
#: Every "this file has problems" error: one ProblemsError shape.
PROBLEM_FILES = (SourceError, WorldError, ScenarioError, MqttMapError, HotlineError, NotifyError)


def _modules() -> Iterator[str]:
    for info in pkgutil.walk_packages(cityeye.__path__, "cityeye."):
        if not info.name.endswith("__main__"):  # runs the command line when imported
            yield info.name


def _subclasses(cls: type[BaseException]) -> Iterator[type[BaseException]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_exception_cityeye_defines_is_a_cityeye_error() -> None:
    with warnings.catch_warnings():  # cityeye.bus and cityeye.pipeline: moved, and say so
        warnings.simplefilter("ignore", DeprecationWarning)
        for name in _modules():
            importlib.import_module(name)
    ours = {
        f"{cls.__module__}.{cls.__qualname__}": cls
        for cls in _subclasses(BaseException)
        if cls.__module__.startswith("cityeye.")
    }
    assert len(ours) >= 30, sorted(ours)  # the walk found the package's exceptions
    outside = {n for n, cls in ours.items() if not issubclass(cls, CityeyeError)}
    assert outside == set(NOT_IN_THE_FAMILY), (
        "derive these from a family of cityeye.errors (or list why not)"
    )


def test_no_exception_class_hides_inside_a_function() -> None:
    """The walk above sees the classes a module defines when imported; one defined
    inside a function would escape it."""
    hidden = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.ClassDef) and any(
                    ast.unparse(b).endswith(("Error", "Exception")) for b in inner.bases
                ):
                    hidden.append(f"{path.relative_to(SRC)}: {inner.name}")
    assert not hidden


def test_builtin_bases_stay_where_callers_catch_them() -> None:
    for cls in (FieldError, TransitionError, UserExists, *PROBLEM_FILES):
        assert issubclass(cls, ValueError), cls
    for cls in (BusError, AnalysisGone):
        assert issubclass(cls, RuntimeError), cls
    assert issubclass(DeliveryError, OSError)
    assert issubclass(TokenError, AuthError)
    assert issubclass(TransitionError, InputError)
    # participation's errors: their family, and still FieldErrors naming the field
    for cls, family in (
        (NotFound, NotFoundError),
        (Refused, RefusedError),
        (Conflict, ConflictError),
        (Blocked, ConflictError),
    ):
        assert issubclass(cls, family), cls
        assert issubclass(cls, FieldError), cls
    assert issubclass(AlreadySeeded, ConflictError)
    assert issubclass(UserExists, ConflictError)
    assert all(issubclass(c, ServiceError) for c in (BusError, AnalysisGone, DeliveryError))


def test_a_file_with_problems_is_one_shape() -> None:
    problems = [Problem("areas[3].parent", "unknown area 'X'", 7), Problem("(document)", "empty")]
    for cls in PROBLEM_FILES:
        if cls is ScenarioError:
            continue  # made from a LoadResult: below
        exc = cls("w.yaml", problems)
        assert isinstance(exc, ProblemsError)
        assert isinstance(exc, InputError)
        assert exc.source == "w.yaml"
        assert exc.lines() == [
            "w.yaml:7: areas[3].parent: unknown area 'X'",
            "w.yaml: (document): empty",
        ]
        assert str(exc) == "; ".join(exc.lines())
        assert (exc.problems[0].field, exc.problems[0].reason) == (
            "areas[3].parent",
            "unknown area 'X'",
        )
    # the problems of several files each name theirs
    result = LoadResult(problems=[("a.yaml", problems[0]), ("b.yaml", problems[1])])
    scenarios = ScenarioError(result)
    assert scenarios.lines() == result.render_problems()
    assert scenarios.lines() == [
        "a.yaml:7: areas[3].parent: unknown area 'X'",
        "b.yaml: (document): empty",
    ]


def test_every_family_has_a_status_and_the_specific_ones_come_first() -> None:
    families = {family for family, _ in STATUS}
    children = set(CityeyeError.__subclasses__())
    assert children - families == NO_FAMILY
    assert [code for _, code in STATUS][-1] == 422  # InputError last: NotFound is one too
    assert status_for(NotFound("topic", "no topic 7")) == 404
    assert status_for(Open311Error(400, "x")) is None


# ---------------------------------------------------------------------- over HTTP
RAISED: dict[str, tuple[Exception, int, str]] = {
    "field": (FieldError("area", "no area 'X'"), 422, "area: no area 'X'"),
    "problems": (
        WorldError("w.yaml", [Problem("district", "is required", 1)]),
        422,
        "w.yaml:1: district: is required",
    ),
    "not-found": (NotFound("topic", "no topic T9"), 404, "topic: no topic T9"),
    "refused": (Refused("role", "only staff"), 403, "role: only staff"),
    "conflict": (Conflict("step", "closed already"), 409, "step: closed already"),
    "blocked": (Blocked("ballot", "define it first"), 409, "ballot: define it first"),
    "taken": (UserExists("username 'li' is taken"), 409, "username 'li' is taken"),
    "auth": (AuthError("sign in first"), 401, "sign in first"),
    "token": (TokenError("unknown token"), 401, "unknown token"),
    "service": (BusError("NATS is away"), 503, "NATS is away"),
    "plain-not-found": (NotFoundError("no such thing"), 404, "no such thing"),
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('errors') / 'e.db'}")
    app = create_app(store)

    def boom(kind: str) -> None:
        if kind == "open311":
            raise Open311Error(400, "x: outside every family")
        raise RAISED[kind][0]

    app.add_api_route("/test/raise/{kind}", boom)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
    store.close()


@pytest.mark.parametrize("kind", sorted(RAISED))
def test_each_family_becomes_its_status_through_the_one_handler(
    client: TestClient, kind: str
) -> None:
    _, status, detail = RAISED[kind]
    r = client.get(f"/test/raise/{kind}")
    assert r.status_code == status
    assert r.json() == {"detail": detail}
    if status == 401:
        assert r.headers["www-authenticate"] == "Bearer"
    else:
        assert "www-authenticate" not in r.headers


def test_an_error_outside_the_families_is_still_a_server_error(client: TestClient) -> None:
    assert client.get("/test/raise/open311").status_code == 500


def test_the_module_docstring_draws_every_family() -> None:
    doc = errors.__doc__ or ""
    for family in (*(f for f, _ in STATUS), *NO_FAMILY, ProblemsError, FieldError):
        assert family.__name__ in doc, family
