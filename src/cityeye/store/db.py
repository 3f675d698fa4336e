"""Database connection: one function turns a URL into a ready engine.

SQLite is the embedded default (``sqlite:///cityeye.db``) so the two-command start needs
no server; PostgreSQL (``postgresql://...``) is the same code for production.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

DEFAULT_URL = "sqlite:///cityeye.db"
MIGRATIONS = Path(__file__).with_name("migrations")


def normalise_url(url: str) -> str:
    """Accept the URLs people write and pick cityeye's drivers.

    ``postgresql://`` and ``postgres://`` use psycopg 3 (SQLAlchemy's default would be
    psycopg2, which cityeye does not install).
    """
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_pragmas(durable: bool) -> Any:
    # WAL lets the web server read while ingest writes. synchronous=FULL makes a
    # commit durable against power loss, not only a crash: an event is acknowledged
    # only after its commit, and "nothing accepted is lost" must hold. Batching makes
    # the extra fsync cheap. A scratch database (a replay's output, rebuilt from its
    # input file at will) needs no fsync at all.
    def apply(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: index inserts stay in memory
        # wal_autocheckpoint stays at SQLite's 1,000 pages. Tried 16,384 (issue 15): HTTP
        # ingest +12 % (14,482/13,410 → 16,296/15,111 ev/s, bench/live.py, alternating
        # runs), but each copy-back then runs ~16x longer inside one commit, and the
        # requests queued behind it doubled the alert latency's tail (p99 966/1,329 →
        # 2,174/2,868 ms). An alert in time is worth more than the rate.
        cursor.close()

    return apply


def make_engine(url: str = DEFAULT_URL, *, durable: bool = True) -> Engine:
    """An engine for ``url`` with cityeye's connection settings (no migration).

    ``durable=False`` is for scratch databases only (see ``_sqlite_pragmas``)."""
    sa_url = make_url(normalise_url(url))
    if sa_url.get_backend_name() == "sqlite":
        path = sqlite_file(sa_url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(sa_url)
        event.listen(engine, "connect", _sqlite_pragmas(durable))
        return engine
    return create_engine(sa_url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # configparser reads "%" as interpolation: a URL with %-escapes (a password, or
    # SQLite's ":memory:") must have them doubled
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the database schema up to the newest migration (idempotent)."""
    command.upgrade(alembic_config(engine), "head")


def sqlite_file(url: str | URL) -> Path | None:
    """The database file a SQLite URL names (``None``: another database, or one in
    memory): where make_engine makes the folder, serve keeps photos beside it, and
    read-only commands check that it is there."""
    parsed = make_url(normalise_url(url)) if isinstance(url, str) else url
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return None
    return Path(str(database))


def missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite database file ``url`` names that does not exist (opening it
    would create an empty one), else ``None``: for commands that only read."""
    path = sqlite_file(url)
    return str(path) if path is not None and not path.exists() else None
