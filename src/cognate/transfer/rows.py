"""A pool's rows out of one database (`export_pool`) and into another (`import_pool`).

Export reads every moved table (tables.py) in one snapshot, opening sealed columns with
the source's master key. Import writes them in one transaction: new row keys, references
translated, sealed columns sealed again with the target's master key. A pool id the target
already has is refused, or with `replace` that pool is deleted first (in the same
transaction: a failed import leaves the target as it was).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cognate import __version__
from cognate.domain.secretbox import SecretBox
from cognate.storage import schema
from cognate.storage.db import Database
from cognate.transfer import fileformat, tables
from cognate.transfer.fileformat import TransferError

_BATCH = 500


@dataclass
class Summary:
    pool_id: str
    region: str
    rows: dict[str, int] = field(default_factory=dict)

    def total(self) -> int:
        return sum(self.rows.values())


def _pool_row(conn: Connection, pool_id: str) -> Any:
    return conn.execute(
        sa.select(schema.user_pools).where(schema.user_pools.c.id == pool_id)
    ).first()


# --------------------------------------------------------------------------- export


def export_pool(db: Database, box: SecretBox, pool_id: str, writer: fileformat.Writer) -> Summary:
    plan = tables.plan()
    refs_of = {t.name: t.refs for t in plan.tables}
    conn = db.engine.connect()
    try:
        if not db.is_sqlite:  # one snapshot for every table
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            pool = _pool_row(conn, pool_id)
            if pool is None:
                raise TransferError(f"User pool {pool_id} does not exist in this database.")
            summary = Summary(pool_id, pool.region)
            writer.write(
                {
                    "pool": {
                        "id": pool_id,
                        "region": pool.region,
                        "name": pool.name,
                        "exported_at": int(time.time() * 1000),
                        "cognate": __version__,
                        "tables": [t.name for t in plan.tables],
                        "not_moved": plan.skipped,
                    }
                }
            )
            subs: dict[int, str] = {}
            for table in plan.tables:
                query = sa.select(table.table).where(
                    tables.owned_condition(table.table, pool.pk, refs_of)
                )
                count = 0
                stream = conn.execution_options(yield_per=1000).execute(query)
                for row in stream.mappings():
                    writer.write(
                        {
                            "t": table.name,
                            "r": _out(table, {str(k): v for k, v in row.items()}, box, subs),
                        }
                    )
                    count += 1
                summary.rows[table.name] = count
            writer.write({"end": summary.rows})
            return summary
    finally:
        conn.close()


def _out(
    table: tables.TablePlan, row: dict[str, Any], box: SecretBox, subs: dict[int, str]
) -> dict[str, Any]:
    if table.name == "users":
        subs[row["pk"]] = row["sub"]
    for name, context in table.sealed.items():
        if row[name] is not None:
            plain = box.open(row[name], context(row, row.get("pk"), subs))
            row[name] = {"$secret": plain}
    for name in table.binary:
        if row[name] is not None:
            row[name] = {"$b64": base64.b64encode(row[name]).decode()}
    return row


# --------------------------------------------------------------------------- import


def import_pool(
    db: Database, box: SecretBox, path: str, passphrase: bytes | None, *, replace: bool
) -> Summary:
    plan = {t.name: t for t in tables.plan().tables}

    def import_txn(conn: Connection) -> Summary:
        records = fileformat.read(path, passphrase)
        first = next(records, None)
        if first is None or "pool" not in first:
            raise TransferError(f"{path}: the first record does not describe a pool")
        pool_id = first["pool"]["id"]
        summary = Summary(pool_id, first["pool"]["region"])
        existing = _pool_row(conn, pool_id)
        if existing is not None:
            if not replace:
                raise TransferError(
                    f"User pool {pool_id} already exists in this database: give --replace to "
                    "delete it and import the file in its place"
                )
            conn.execute(sa.delete(schema.user_pools).where(schema.user_pools.c.pk == existing.pk))
        loader = _Loader(conn, box, plan, path)
        for record in records:
            if "end" in record:
                loader.flush()
                if {k: v for k, v in record["end"].items() if v} != loader.counts:
                    raise TransferError(f"{path}: the row counts do not match the end record")
                break
            loader.add(record)
        summary.rows = dict(loader.counts)
        return summary

    try:
        return db.write("import_pool", import_txn)
    except IntegrityError as exc:
        raise TransferError(
            f"the pool's data conflicts with data already in this database (a domain, client "
            f"id or key another pool has?): {exc.orig}"
        ) from None


class _Loader:
    """Inserts records in batches per table, translating row keys and sealing secrets."""

    def __init__(
        self, conn: Connection, box: SecretBox, plan: dict[str, tables.TablePlan], path: str
    ) -> None:
        self._conn = conn
        self._box = box
        self._plan = plan
        self._path = path
        self._keys: dict[str, dict[int, int]] = {name: {} for name in plan}
        self._subs: dict[int, str] = {}
        self._table: tables.TablePlan | None = None
        self._batch: list[tuple[int | None, dict[str, Any], dict[str, str]]] = []
        self.counts: dict[str, int] = {}

    def add(self, record: dict[str, Any]) -> None:
        name, row = record.get("t"), record.get("r")
        table = self._plan.get(name) if isinstance(name, str) else None
        if table is None or not isinstance(row, dict):
            raise TransferError(
                f"{self._path}: rows of table {name!r}, which this Cognate does not move "
                "(was the file exported by a newer version?)"
            )
        unknown = set(row) - set(table.table.columns.keys())
        if unknown:
            raise TransferError(
                f"{self._path}: {name}.{sorted(unknown)[0]} is not a column this Cognate has "
                "(was the file exported by a newer version?)"
            )
        if self._table is not table or len(self._batch) >= _BATCH:
            self.flush()
            self._table = table
        self.counts[table.name] = self.counts.get(table.name, 0) + 1
        self._batch.append(self._prepare(table, row))

    def _prepare(
        self, table: tables.TablePlan, row: dict[str, Any]
    ) -> tuple[int | None, dict[str, Any], dict[str, str]]:
        old_pk = row.pop("pk", None) if table.surrogate else None
        if table.name == "users":
            self._subs[old_pk if old_pk is not None else -1] = row["sub"]
        later: dict[str, str] = {}  # sealed with the new pk once it is known
        for name, context in table.sealed.items():
            value = row.get(name)
            if value is None:
                continue
            plain = value["$secret"]
            if (table.name, name) in tables.OWN_PK_CONTEXTS:
                later[name] = plain
                row[name] = None
            else:
                row[name] = self._box.seal(plain, context(row, None, self._subs))
        for name in table.binary:
            if row.get(name) is not None:
                row[name] = base64.b64decode(row[name]["$b64"])
        for column, target in table.refs.items():
            value = row.get(column)
            if value is None:
                continue
            try:
                row[column] = self._keys[target][value]
            except KeyError:
                raise TransferError(
                    f"{self._path}: a {table.name} row refers to {target} row {value}, "
                    "which the file does not hold"
                ) from None
        return old_pk, row, later

    def flush(self) -> None:
        table, batch = self._table, self._batch
        self._batch = []
        if table is None or not batch:
            return
        rows = [row for _, row, _ in batch]
        if not table.surrogate:
            self._conn.execute(sa.insert(table.table), rows)
            return
        pk = table.table.c.pk
        result = self._conn.execute(
            sa.insert(table.table).returning(pk, sort_by_parameter_order=True), rows
        )
        new_keys = [r[0] for r in result]
        keys = self._keys[table.name]
        for (old_pk, _row, later), new_pk in zip(batch, new_keys, strict=True):
            if old_pk is not None:
                keys[old_pk] = new_pk
            if later:
                sealed = {
                    name: self._box.seal(plain, table.sealed[name]({}, new_pk, self._subs))
                    for name, plain in later.items()
                }
                self._conn.execute(sa.update(table.table).where(pk == new_pk).values(**sealed))


def iter_tables() -> Iterator[str]:
    """The names of the tables export/import move (for documentation and tests)."""
    for table in tables.plan().tables:
        yield table.name
