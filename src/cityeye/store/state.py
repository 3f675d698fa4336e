"""Installation state: settings, the engine's snapshots, clock marks, scenarios.

Part of :class:`cityeye.store.Store` (one module per data type; issue 16)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, insert, select

from cityeye.domain import (
    ScenarioSpec,
)
from cityeye.store import tables as t
from cityeye.store.base import Repo


def _plain(value: Any) -> Any:
    """orjson fallback for the few non-JSON values in a spec (tuples are lists already)."""
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


class StateRepo(Repo):
    """Installation state: settings, the engine's snapshots, clock marks, scenarios."""

    # ----------------------------------------------------------------- meta
    def set_meta(self, key: str, value: Any) -> None:
        """Keep one JSON value under ``key`` (one small transaction): how a process
        tells another what it is doing (the analysis process's ``live`` status)."""
        with self.engine.begin() as conn:
            self._set_meta(conn, key, value)

    def get_meta(self, key: str) -> Any:
        """The value :meth:`set_meta` kept (``None``: none)."""
        with self.engine.connect() as conn:
            return self._get_meta(conn, key)

    # ----------------------------------------------------------------- installation
    def installation_id(self) -> str:
        """This installation's random id, made on first use and kept with the data
        (the ``meta`` row ``installation``): a recreated database is another
        installation, a restored one the same. The bus names its messages with it."""
        import secrets

        from sqlalchemy.exc import IntegrityError

        with self.engine.connect() as conn:
            found = self._get_meta(conn, "installation")
        if isinstance(found, str):
            return found
        try:  # two processes starting on a new database: the first insert wins
            with self.engine.begin() as conn:
                conn.execute(insert(t.meta).values(key="installation", value=secrets.token_hex(8)))
        except IntegrityError:
            pass
        with self.engine.connect() as conn:
            return str(self._get_meta(conn, "installation"))

    # ----------------------------------------------------------------- engine state
    def save_engine_state(self, name: str, data: bytes, last_seq: int, at: datetime) -> None:
        """Keep the engine's snapshot and the last event sequence it had seen; the clock
        marks from before it are no longer needed for a restart."""
        with self.engine.begin() as conn:
            conn.execute(delete(t.engine_state).where(t.engine_state.c.name == name))
            conn.execute(
                delete(t.clock_marks).where(
                    t.clock_marks.c.name == name, t.clock_marks.c.after_seq < last_seq
                )
            )
            conn.execute(
                insert(t.engine_state).values(name=name, data=data, last_seq=last_seq, taken_at=at)
            )

    def load_engine_state(self, name: str) -> tuple[bytes, int] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.engine_state.c.data, t.engine_state.c.last_seq).where(
                    t.engine_state.c.name == name
                )
            ).first()
        return None if row is None else (bytes(row.data), int(row.last_seq))

    # ----------------------------------------------------------------- clock marks
    def add_clock_mark(self, name: str, after_seq: int, at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(t.clock_marks).values(name=name, after_seq=after_seq, at=at))

    def clock_marks(self, name: str, after_seq: int) -> list[tuple[int, datetime]]:
        """Marks of ``name`` taken after event ``after_seq`` or later, in order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.clock_marks.c.after_seq, t.clock_marks.c.at)
                .where(t.clock_marks.c.name == name, t.clock_marks.c.after_seq >= after_seq)
                .order_by(t.clock_marks.c.seq)
            )
            return [(int(r.after_seq), r.at) for r in rows]

    # ----------------------------------------------------------------- scenarios
    def save_scenarios(self, specs: Iterable[ScenarioSpec], at: datetime) -> None:
        """Record the scenarios in use (replacing what was there), so pages and
        reports can name them and say what they were at the time."""
        rows = [
            {
                "id": spec.id,
                "module": spec.module.value,
                "name_zh": spec.name_zh,
                "name_en": spec.name_en,
                "spec": orjson.loads(orjson.dumps(spec, default=_plain)),
                "enabled": True,
                "updated_at": at,
            }
            for spec in specs
        ]
        with self.engine.begin() as conn:
            conn.execute(delete(t.scenarios))
            self._insert_rows(conn, t.scenarios, rows)

    def scenario_names(self) -> dict[str, str]:
        """Scenario id → Chinese name."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.scenarios.c.id, t.scenarios.c.name_zh)).all()
        return {r.id: r.name_zh for r in rows}
