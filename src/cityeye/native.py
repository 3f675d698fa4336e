"""The one switch between cityeye's compiled parts and the pure-Python reference.

Some hot paths have a compiled twin, built from ``.pyx`` sources by ``pip install``
(``setup.py``). The Python code stays the reference: it defines the behaviour, handles
every unusual input itself, and the tests feed both the same inputs and require the same
results. ``CITYEYE_ENGINE`` chooses, once, at import:

* unset or ``auto``: the compiled parts where they were built, Python elsewhere;
* ``python``: the reference everywhere (to compare, or to rule the compiled parts out);
* ``compiled``: the compiled parts, or an ImportError that says what is missing.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

#: The environment variable and its values (docs/ingest.md, "compiled parts").
VARIABLE = "CITYEYE_ENGINE"
MODES = ("auto", "python", "compiled")


def mode() -> str:
    """The chosen mode; a value outside :data:`MODES` is refused by name."""
    value = os.environ.get(VARIABLE, "auto").strip().lower() or "auto"
    if value not in MODES:
        raise ValueError(f"{VARIABLE}={value!r}: must be one of {', '.join(MODES)}")
    return value


def compiled(name: str) -> ModuleType | None:
    """The compiled module ``cityeye.<name>``, or ``None`` where the reference runs."""
    chosen = mode()
    if chosen == "python":
        return None
    try:
        return importlib.import_module(f"cityeye.{name}")
    except ImportError as exc:
        if chosen == "compiled":
            raise ImportError(
                f"{VARIABLE}=compiled, but cityeye.{name} was not built; reinstall cityeye "
                "where a C compiler is available (pip install .), or unset the variable"
            ) from exc
        return None
