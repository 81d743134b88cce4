"""Baseline: every cockpit table as wxai made it with ``create_all`` before migrations.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-12-03

The tables are defined here, frozen, on their own :data:`metadata` (not imported from
the models, which move on). ``upgrade`` creates only the tables that are missing, so
:func:`wxai.cockpit.db.migrate` also uses :data:`metadata` to bring a database made by
an older wxai (tables, no ``wxai_schema_version``) up to this baseline before stamping it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

metadata = sa.MetaData()

sa.Table(
    "tasks",
    metadata,
    sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(32), nullable=False, unique=True, index=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("progress", sa.Float(), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("result", sa.JSON(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("cancel_requested", sa.Boolean(), nullable=False),
    sa.Column("owner_id", sa.String(64), nullable=True, index=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sqlite_autoincrement=True,
)
sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True, index=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(256), nullable=True),
    sa.Column("disabled", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
)
sa.Table(
    "groups",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True, index=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
)
sa.Table(
    "group_members",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column(
        "group_id",
        sa.String(32),
        sa.ForeignKey("groups.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column(
        "user_id",
        sa.String(32),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.UniqueConstraint("group_id", "user_id"),
)
sa.Table(
    "credentials",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False, unique=True, index=True),
    sa.Column("kind", sa.String(16), nullable=False, index=True),
    sa.Column(
        "user_id",
        sa.String(32),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("label", sa.String(128), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("expires_at", sa.DateTime(), nullable=True),
    sa.Column("last_used_at", sa.DateTime(), nullable=True),
)
sa.Table(
    "chat_sessions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("owner_id", sa.String(64), nullable=False, index=True),
    sa.Column("title", sa.String(120), nullable=False),
    sa.Column("model", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False, index=True),
)
sa.Table(
    "chat_messages",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "session_id",
        sa.String(32),
        sa.ForeignKey("chat_sessions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("parts", sa.JSON(), nullable=False),
    sa.Column("model", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
)
sa.Table(
    "dataspaces",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("private_of", sa.String(32), nullable=True, unique=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
)
sa.Table(
    "dataspace_members",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column(
        "dataspace_id",
        sa.String(32),
        sa.ForeignKey("dataspaces.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("user_id", sa.String(32), nullable=True, index=True),
    sa.Column("group_id", sa.String(32), nullable=True, index=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.UniqueConstraint("dataspace_id", "user_id", "group_id"),
)
sa.Table(
    "dataspace_files",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "dataspace_id",
        sa.String(32),
        sa.ForeignKey("dataspaces.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("media_type", sa.String(64), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("uploaded_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("summary", sa.Text(), nullable=True),
    sa.Column("index_status", sa.String(16), nullable=False),
    sa.UniqueConstraint("dataspace_id", "name"),
)


def upgrade() -> None:
    """Create the baseline tables that do not exist yet."""
    metadata.create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    """Drop every baseline table (all cockpit data is lost)."""
    metadata.drop_all(op.get_bind(), checkfirst=True)
