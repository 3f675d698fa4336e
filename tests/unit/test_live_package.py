"""The live runtime moved to ``cityeye.live`` (issue 15); code written against the old
module names still runs, told to move."""

from __future__ import annotations

import importlib
import sys

import pytest


@pytest.mark.parametrize(
    ("old", "new", "names"),
    [
        # old name → name in the new module (Intake is Pipeline since issue 16: the
        # name Intake went to the protocol the ingest channels depend on)
        (
            "cityeye.pipeline",
            "cityeye.live.pipeline",
            (("LivePipeline",) * 2, ("Intake", "Pipeline"), ("resume",) * 2),
        ),
        (
            "cityeye.bus",
            "cityeye.live.bus",
            (("BusPipeline",) * 2, ("Worker",) * 2, ("BusError",) * 2),
        ),
    ],
)
def test_the_old_module_names_still_work_and_say_where_they_went(
    old: str, new: str, names: tuple[tuple[str, str], ...]
) -> None:
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=new):
        shim = importlib.import_module(old)
    moved = importlib.import_module(new)
    for name, now in names:
        assert getattr(shim, name) is getattr(moved, now)
