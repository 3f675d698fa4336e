"""What the store tests share: ``store``, an empty database of each kind cityeye runs
on — SQLite in a temporary file, and PostgreSQL (the session's database, marked
``integration``: skipped without a server outside CI). A test file that needs more
(tables emptied first) overrides ``store`` and asks for this one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cityeye.store import Store


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = (
        f"sqlite:///{tmp_path / 'store.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    s = Store.open(url)
    yield s
    s.close()
