"""Shared fixtures.

Integration tests talk to real services. Without them a laptop run skips those tests
with a message saying which service is missing; under ``CI=true`` a missing service is
a failure, never a silent skip.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cityeye.store import Store

PG_ADMIN_URL = os.environ.get(
    "CITYEYE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO.parent / "shared" / "seeds"


def require_service(name: str, host: str, port: int) -> None:
    """Skip (laptop) or fail (CI) when a service is unreachable."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        message = f"{name} is not reachable on {host}:{port} ({exc})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {message}")
        pytest.skip(f"{message}; start it to run this integration test")


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database; dropped (its sessions ended) afterwards."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"cityeye_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    with fresh_pg_database() as url:
        yield url


@pytest.fixture
def pg_fresh_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own (several processes share it)."""
    with fresh_pg_database() as url:
        yield url


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'cityeye.db'}")
    yield store
    store.close()
