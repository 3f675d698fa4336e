"""buildings, and venues.address: the world file's named places (issue 17).

A device's ``building`` was only an id; a world file may now list its buildings (a
小区's 幢, a school, a market) with a name, an address and a point, and give venues an
address, so the portal can say where a pin is in words people use.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _json() -> sa.JSON:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "buildings",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("area_code", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("tags", _json(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("extra", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buildings")),
    )
    op.create_index(op.f("ix_buildings_area_code"), "buildings", ["area_code"], unique=False)
    with op.batch_alter_table("venues") as batch:
        batch.add_column(sa.Column("address", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("venues") as batch:
        batch.drop_column("address")
    op.drop_index(op.f("ix_buildings_area_code"), table_name="buildings")
    op.drop_table("buildings")
