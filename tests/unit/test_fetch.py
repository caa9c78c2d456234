"""`Database.fetch`: prebuilt SELECTs run straight on the driver, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from cognate.storage.db import Database
from tests.conftest import POSTGRES_URL

_PG = pytest.mark.skipif(not POSTGRES_URL, reason="COGNATE_TEST_POSTGRES_URL is not set")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=_PG)])
def db_and_table(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Database, sa.Table]]:
    url = f"sqlite:///{tmp_path}/fetch.db" if request.param == "sqlite" else POSTGRES_URL
    assert url is not None
    db = Database(url, pool_size=2)
    metadata = sa.MetaData()
    table = sa.Table(
        f"fetch_{uuid.uuid4().hex[:12]}",
        metadata,
        sa.Column("pk", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("flag", sa.Boolean, nullable=False),
    )
    metadata.create_all(db.engine)
    with db.engine.begin() as conn:
        conn.execute(
            sa.insert(table),
            [{"pk": i, "name": f"n{i}", "flag": i % 2 == 0} for i in range(1, 11)],
        )
    try:
        yield db, table
    finally:
        metadata.drop_all(db.engine)
        db.dispose()


def test_rows_are_named_by_label_and_parameters_are_bound(
    db_and_table: tuple[Database, sa.Table],
) -> None:
    db, table = db_and_table
    query = (
        sa.select(table.c.pk, sa.func.substr(table.c.name, 1, 1).label("initial"), table.c.flag)
        .where(table.c.pk > sa.bindparam("after"), table.c.flag == sa.bindparam("flag"))
        .order_by(table.c.pk)
        .limit(sa.bindparam("limit"))
    )
    rows = db.fetch(query, {"after": 2, "flag": True, "limit": 3})
    assert [(r.pk, r.initial, bool(r.flag)) for r in rows] == [
        (4, "n", True),
        (6, "n", True),
        (8, "n", True),
    ]
    assert db.fetch(query, {"after": 10, "flag": True, "limit": 3}) == []


def test_missing_parameters_and_expanding_parameters_are_refused(
    db_and_table: tuple[Database, sa.Table],
) -> None:
    db, table = db_and_table
    query = sa.select(table.c.pk).where(table.c.pk == sa.bindparam("pk"))
    with pytest.raises(KeyError, match="pk"):
        db.fetch(query, {})
    expanding = sa.select(table.c.pk).where(table.c.pk.in_(sa.bindparam("pks", expanding=True)))
    with pytest.raises(ValueError, match="expanding"):
        db.fetch(expanding, {"pks": [1, 2]})


def test_fetch_sees_committed_writes_and_leaves_no_transaction_open(
    db_and_table: tuple[Database, sa.Table],
) -> None:
    db, table = db_and_table
    count = sa.select(sa.func.count().label("n")).select_from(table)
    assert db.fetch(count, {})[0].n == 10
    db.write(
        "insert", lambda conn: conn.execute(sa.insert(table), {"pk": 11, "name": "x", "flag": True})
    )
    assert db.fetch(count, {})[0].n == 11
    # A write from another thread is not blocked by connections fetch returned to the pool.
    errors: list[BaseException] = []

    def write() -> None:
        try:
            db.write("delete", lambda conn: conn.execute(sa.delete(table).where(table.c.pk == 11)))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert not errors
    assert db.fetch(count, {})[0].n == 10
