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


def _cockpit_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave the retrieval backend's ``rag_*`` tables alone (wxai.assistant.rag.pg_store
    manages them when they share the cockpit's PostgreSQL database)."""
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    return not str(table or "").startswith("rag_")


context.configure(
    connection=_connection,
    include_object=_cockpit_object,
    target_metadata=Base.metadata,
    render_as_batch=_connection.dialect.name == "sqlite",  # SQLite alters by copying
    compare_type=True,
    version_table=VERSION_TABLE,
)
with context.begin_transaction():
    context.run_migrations()
