"""Demo district and event simulator (模拟): a realistic 拱墅区 and a day of its events.

:func:`build_demo_world` builds the world file from the seed documents' facts;
:func:`simulate` produces the event stream a collector would receive from it, with a
planted positive pattern, near misses and false alarms for every normative scenario.
"""

from cityeye.sim.district import build_demo_world, load_facts
from cityeye.sim.simulator import (
    CATEGORIES,
    Plant,
    default_start,
    planted,
    planted_keys,
    simulate,
    write_jsonl,
)

__all__ = [
    "CATEGORIES",
    "Plant",
    "build_demo_world",
    "default_start",
    "load_facts",
    "planted",
    "planted_keys",
    "simulate",
    "write_jsonl",
]
