"""Quotas and streams that survive: rate-limit tables, chat answers with a status.

Revision ID: 0003_quotas_streams
Revises: 0002_task_claims
Create Date: 2026-12-03

``quota_limits`` holds per-user and per-key overrides, ``quota_counters`` the
requests and tokens of each fixed window. ``chat_messages`` gets ``status``
(streaming, complete, failed, cancelled), ``cancel_requested`` and ``updated_at``;
existing messages are complete.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_quotas_streams"
down_revision = "0002_task_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the quota tables; add the stream columns to ``chat_messages``."""
    op.create_table(
        "quota_limits",
        sa.Column("subject", sa.String(80), primary_key=True),
        sa.Column("requests_per_minute", sa.Integer(), nullable=True),
        sa.Column("tokens_per_day", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "quota_counters",
        sa.Column("subject", sa.String(80), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("window_start", sa.BigInteger(), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    status = sa.Column("status", sa.String(16), nullable=False, server_default="complete")
    cancel = sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false())
    op.add_column("chat_messages", status)  # plain ALTER TABLE ADD: SQLite needs no copy
    op.add_column("chat_messages", cancel)
    op.add_column("chat_messages", sa.Column("updated_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    """Drop the stream columns and the quota tables."""
    with op.batch_alter_table("chat_messages") as batch:
        batch.drop_column("updated_at")
        batch.drop_column("cancel_requested")
        batch.drop_column("status")
    op.drop_table("quota_counters")
    op.drop_table("quota_limits")
