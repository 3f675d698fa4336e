"""Storage: SQLAlchemy tables, Alembic migrations and the :class:`Store` repository."""

from cityeye.store.api_tokens import ApiToken
from cityeye.store.db import DEFAULT_URL, make_engine, migrate, normalise_url
from cityeye.store.dead_letters import DeadLetter
from cityeye.store.repo import Store

__all__ = [
    "DEFAULT_URL",
    "ApiToken",
    "DeadLetter",
    "Store",
    "make_engine",
    "migrate",
    "normalise_url",
]
