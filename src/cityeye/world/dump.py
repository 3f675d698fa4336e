"""Write a world-file dict as YAML (human-readable: Chinese as is, keys in order)."""

from __future__ import annotations

from typing import Any

import yaml

try:
    from yaml import CSafeDumper as _Dumper
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]


def dump_world_file(data: dict[str, Any]) -> str:
    """YAML text for a world-file dict; ``load_world`` reads it back unchanged."""
    header = "# cityeye world file — see docs/world-file.md\n"
    return header + yaml.dump(
        data,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=120,
        default_flow_style=None,  # lists of scalars (coordinates, tags) on one line
    )
