"""Repositories: the only place that turns domain objects into rows and back.

Everything above the store (replay, ingest, the engine's adapters, the web) talks to a
:class:`Store`; no SQL appears outside this package. The class is put together from one
part per data type, each in its own module (:mod:`.worlds`, :mod:`.events`,
:mod:`.dead_letters`, :mod:`.api_tokens`, :mod:`.alerts`, :mod:`.cases`, :mod:`.kpis`,
:mod:`.state`): one object for the callers, one place per kind of row.
"""

from __future__ import annotations

from cityeye.store.alerts import AlertRepo
from cityeye.store.api_tokens import ApiTokenRepo
from cityeye.store.cases import CaseRepo
from cityeye.store.db import DEFAULT_URL, make_engine, migrate
from cityeye.store.dead_letters import DeadLetterRepo
from cityeye.store.events import EventRepo
from cityeye.store.kpis import KpiRepo
from cityeye.store.state import StateRepo
from cityeye.store.worlds import WorldRepo


class Store(
    WorldRepo, EventRepo, DeadLetterRepo, ApiTokenRepo, AlertRepo, CaseRepo, KpiRepo, StateRepo
):
    """Persistent state of one cityeye installation."""

    @classmethod
    def open(cls, url: str = DEFAULT_URL, *, durable: bool = True) -> Store:
        """Connect and bring the schema to the newest migration. ``durable=False`` only
        for scratch databases that can be rebuilt from their input (replay output)."""
        engine = make_engine(url, durable=durable)
        migrate(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()
