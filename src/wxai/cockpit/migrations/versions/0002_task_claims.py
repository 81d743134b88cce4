"""Task claims: which worker holds a task and when it last said it was alive.

Revision ID: 0002_task_claims
Revises: 0001_baseline
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_task_claims"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``tasks.worker_id`` (host:pid:random) and ``tasks.heartbeat_at`` (UTC)."""
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("worker_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    """Drop the claim columns."""
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("worker_id")
