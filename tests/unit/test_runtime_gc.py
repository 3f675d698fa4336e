"""The collector is the process's: the engine never touches it, the commands decide
(cityeye.runtime), and the engine's bulk arming runs inside what they install."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import cityeye.scenarios.engine as engine_module
from cityeye.cli.common import own_process
from cityeye.domain import Subject
from cityeye.runtime import bulk_allocation
from cityeye.scenarios import Engine, load_catalogue, set_bulk_hook
from kit import ev, small_world

WORLD = small_world(subjects=[Subject(f"S{i}", "G1", ("elderly_alone",)) for i in range(50)])
INACTIVE = [s for s in load_catalogue() if s.id == "elderly.inactive"]


@pytest.fixture(autouse=True)
def _keep_hook() -> Iterator[None]:
    saved = engine_module._bulk_hook
    yield
    set_bulk_hook(saved)


def _arm() -> Engine:
    """An engine that has armed every registered person (its service started)."""
    engine = Engine(INACTIVE, WORLD)
    engine.feed(ev("door.open", 0, device="DS", subject="S0"))
    engine.finish()
    return engine


def test_the_engine_leaves_the_collector_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    set_bulk_hook(None)

    def refuse(*_args: object) -> None:
        raise AssertionError("library code changed a process-wide setting")

    for name in ("disable", "enable", "freeze", "set_threshold"):
        monkeypatch.setattr(gc, name, refuse)
    engine = _arm()
    assert len(engine.states) == 50


def test_an_installed_hook_wraps_the_bulk_arming() -> None:
    seen: list[tuple[str, int]] = []
    engine: Engine | None = None

    @contextmanager
    def hook() -> Iterator[None]:
        seen.append(("in", len(engine.states) if engine else -1))
        yield
        seen.append(("out", len(engine.states) if engine else -1))

    set_bulk_hook(hook)
    engine = Engine(INACTIVE, WORLD)
    engine.feed(ev("door.open", 0, device="DS", subject="S0"))
    engine.finish()
    assert seen == [("in", 0), ("out", 50)]


def test_bulk_allocation_pauses_the_collector_and_freezes_what_was_made() -> None:
    assert gc.isenabled()
    before = gc.get_freeze_count()
    try:
        with bulk_allocation():
            assert not gc.isenabled()
            made = [[i] for i in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= before + len(made)
        gc.disable()
        with bulk_allocation():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
        gc.unfreeze()


def test_the_commands_install_it() -> None:
    thresholds = gc.get_threshold()
    set_bulk_hook(None)
    own_process(gc_thresholds=False)
    assert engine_module._bulk_hook is bulk_allocation
    assert gc.get_threshold() == thresholds
