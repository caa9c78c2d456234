"""Alembic environment: runs migrations on the connection handed over by `cognate migrate`.

Developers generate a new revision from `storage/schema.py` with

    alembic -c src/cognate/storage/migrations/alembic.ini -x db=sqlite:///scratch.db \
        revision --autogenerate -m "what changed"
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from cognate.storage.db import Database
from cognate.storage.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite can only alter tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("db")
    if not url:
        raise SystemExit("pass the database with -x db=URL")
    database = Database(url, pool_size=1)
    with database.engine.connect() as conn:
        _run(conn)
        conn.commit()
