"""The live runtime moved to ``cityeye.live`` (issue 15); code written against the old
module names still runs, told to move."""

from __future__ import annotations

import importlib
import sys

import pytest


@pytest.mark.parametrize(
    ("old", "new", "names"),
    [
        ("cityeye.pipeline", "cityeye.live.pipeline", ("LivePipeline", "Intake", "resume")),
        ("cityeye.bus", "cityeye.live.bus", ("BusPipeline", "Worker", "BusError")),
    ],
)
def test_the_old_module_names_still_work_and_say_where_they_went(
    old: str, new: str, names: tuple[str, ...]
) -> None:
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=new):
        shim = importlib.import_module(old)
    moved = importlib.import_module(new)
    for name in names:
        assert getattr(shim, name) is getattr(moved, name)
