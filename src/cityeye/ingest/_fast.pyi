"""Types of the compiled twin in ``_fast.pyx`` (see there)."""

from collections.abc import Container, Sequence
from typing import Any

from cityeye.domain.events import Event

def event_from(obj: object, good_kinds: Container[str]) -> Event | None: ...
def sqlite_rows(
    events: list[Event], areas: Sequence[str | None], received: str, known_kinds: Container[str]
) -> list[tuple[Any, ...]]: ...
