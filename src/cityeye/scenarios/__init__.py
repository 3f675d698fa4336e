"""云 (cloud analysis): scenario specs, triggers and the event-time engine."""

from cityeye.scenarios.engine import AlertChange, Engine, set_bulk_hook
from cityeye.scenarios.spec import (
    CATALOGUE,
    LoadedScenario,
    LoadResult,
    ScenarioError,
    load_catalogue,
    load_scenarios,
)

__all__ = [
    "CATALOGUE",
    "AlertChange",
    "Engine",
    "LoadResult",
    "LoadedScenario",
    "ScenarioError",
    "load_catalogue",
    "load_scenarios",
    "set_bulk_hook",
]
