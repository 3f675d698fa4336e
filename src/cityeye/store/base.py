"""What every part of :class:`cityeye.store.Store` shares: the engine, the batching of
long ``IN`` lists and inserts, and the ``meta`` key/value rows.

The store is one object for its callers (``store.save_cases(...)``) but one module per
data type inside (:mod:`.worlds`, :mod:`.events`, :mod:`.alerts`, :mod:`.cases`,
:mod:`.kpis`, …), each a part of the class; this is their common base (issue 16:
``repo.py`` had grown to 1,371 lines and ten data types)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from cityeye.cases.aggregate import Key
from cityeye.cases.outbox import Channels
from cityeye.domain import Alert, Case, World
from cityeye.store import tables as t

#: Rows per INSERT statement; keeps SQLite under its bound-parameter limit.
CHUNK = 500


def insert_stmt(conn: Connection, table: Table) -> Any:
    """INSERT for the connection's dialect, so ON CONFLICT works on both databases."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


class Repo:
    """The engine and the helpers every part uses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._world: World | None = None  # for the KPI counters' areas and time zone
        #: The channels besides the desk that case notifications go out on (``cityeye
        #: serve --notify``); see :mod:`cityeye.cases.outbox`.
        self.channels = Channels()

    @staticmethod
    def _existing(conn: Connection, column: Any, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are already stored in ``column``'s table."""
        found: set[str] = set()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            found.update(conn.execute(select(column).where(column.in_(chunk))).scalars())
        return found

    @staticmethod
    def _insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            if chunk:
                conn.execute(insert(table), chunk)

    @staticmethod
    def _set_meta(conn: Connection, key: str, value: Any) -> None:
        conn.execute(delete(t.meta).where(t.meta.c.key == key))
        conn.execute(insert(t.meta).values(key=key, value=value))

    @staticmethod
    def _get_meta(conn: Connection, key: str) -> Any:
        row = conn.execute(select(t.meta.c.value).where(t.meta.c.key == key)).first()
        return None if row is None else row.value

    # Implemented by the parts (.worlds, .cases, .alerts, .kpis); declared here so that
    # one part may use another's: saving alerts and cases adds to the KPI counters, and
    # the KPI recount reads the world, the cases and the alerts.
    def load_world(self) -> World | None:
        raise NotImplementedError

    def load_cases(self, ids: Sequence[str] | None = None) -> list[Case]:
        raise NotImplementedError

    def alerts(self, *, open_only: bool = False, limit: int | None = 1000) -> list[Alert]:
        raise NotImplementedError

    def _kpi_world(self) -> World:
        raise NotImplementedError

    def _add_counts(self, conn: Connection, counts: Mapping[Key, int]) -> None:
        raise NotImplementedError
