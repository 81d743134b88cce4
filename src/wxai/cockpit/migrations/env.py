"""Alembic environment of the cockpit database: runs on the connection handed in.

Started by :func:`wxai.cockpit.db.migrate` (and ``wxai db``), which put an open
SQLAlchemy connection into ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from wxai.cockpit.db import VERSION_TABLE, Base, load_models
from wxai.core.errors import WxaiError

load_models()
_connection = context.config.attributes.get("connection")
if _connection is None or context.is_offline_mode():
    raise WxaiError(
        "the cockpit migrations run on a live connection only; use `wxai db upgrade` "
        "or wxai.cockpit.db.migrate(engine)"
    )
context.configure(
    connection=_connection,
    target_metadata=Base.metadata,
    render_as_batch=_connection.dialect.name == "sqlite",  # SQLite alters by copying
    compare_type=True,
    version_table=VERSION_TABLE,
)
with context.begin_transaction():
    context.run_migrations()
