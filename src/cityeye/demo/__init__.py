"""Everything that fabricates demo data (模拟), in one package (issue 16):

* :mod:`.district` — :func:`build_demo_world` builds a realistic 拱墅区 world file from
  the seed documents' facts;
* :mod:`.simulator` and :mod:`.responders` — :func:`simulate` produces the event stream
  a collector would receive from it (a planted positive pattern, near misses and false
  alarms for every normative scenario), and the people's moves on the cases;
* :mod:`.suggestions` and :mod:`.participation` — a month of 社情民意 and 红茶议事会;
* :mod:`.users` — one login per role.

Nothing in the product imports it but the command line (docs/architecture.md).
"""

from cityeye.demo.district import build_demo_world, load_facts
from cityeye.demo.simulator import (
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
