"""Which rows are a user pool's, derived from the schema: what export/import move.

A table is the pool's when one of its columns refers (by foreign key, or as declared in
`IMPLICIT_REFS`) to `user_pools` or to another table that is the pool's. Every such table
is moved unless `SKIPPED` says why not, so tables added later are moved without anyone
remembering to add them; what the code cannot do for them by itself makes `plan()` fail
(and tests/storage/test_export_import.py with it):

* a `*_pk` column that is neither a foreign key nor in `IMPLICIT_REFS` / `NOT_REFS` (it
  might hold a row key that must be translated);
* a `*_enc` column (sealed with the master key) without its sealing context in `SEALED`.

Row keys (`pk`) are the target database's own: each referring column is translated from
the source's key to the row the import inserted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from cognate.storage import schema

ROOT = schema.user_pools.name

SKIPPED: dict[str, str] = {
    "codes": "one-time codes are kept only as hashes keyed by the source's master key; "
    "users ask for new codes",
    "outbox": "messages are the source's delivery queue and history",
    "auth_sessions": "sign-ins in progress (a few minutes long) start again",
    "webauthn_registrations": "passkey registrations in progress start again",
    "pitr_changes": "point-in-time recovery history holds before-images with the source's "
    "row keys; the imported pool's recovery window starts at the import",
    "pitr_restorations": "recoveries refer to the history above",
}
"""Pool-owned tables that are not moved, and why."""

IMPLICIT_REFS: dict[tuple[str, str], str] = {
    ("user_attributes", "pool_pk"): "user_pools",
    ("user_identifiers", "pool_pk"): "user_pools",
}
"""Columns holding another table's `pk` without a foreign key (denormalized for indexes)."""

NOT_REFS: frozenset[tuple[str, str]] = frozenset()
"""`*_pk` columns that hold no row key (none so far)."""

# A sealed column's context: (the row as stored, the row's own pk in the database it is
# read from or written to, the pool's users' subs by source user pk) -> the context.
Context = Callable[[dict[str, Any], int | None, dict[int, str]], str]

SEALED: dict[tuple[str, str], Context] = {
    ("client_secrets", "secret_enc"): lambda r, _pk, _s: f"client-secret/{r['secret_id']}",
    ("signing_keys", "private_key_enc"): lambda r, _pk, _s: f"signing-key/{r['kid']}",
    ("users", "password_enc"): lambda r, _pk, _s: f"password/{r['sub']}",
    ("users", "password_history_enc"): lambda r, _pk, _s: f"password-history/{r['sub']}",
    ("software_tokens", "secret_enc"): lambda r, _pk, subs: f"totp/{subs[r['user_pk']]}",
    ("software_tokens", "pending_secret_enc"): lambda r, _pk, subs: f"totp/{subs[r['user_pk']]}",
    ("devices", "verifier_enc"): lambda r, _pk, _s: f"device/{r['device_key']}",
    ("identity_providers", "secrets_enc"): lambda _r, pk, _s: f"idp-secrets/{pk}",
}
"""Every sealed column of a moved table, with the context `SecretBox.seal` used for it (as
in the domain code that writes it): export opens it with the source's key, import seals
it again with the target's."""

OWN_PK_CONTEXTS = frozenset({("identity_providers", "secrets_enc")})
"""Sealed columns whose context is the row's own pk: sealed after the row is inserted."""


class PlanError(RuntimeError):
    """The schema has a pool-owned column this module does not know how to move."""


@dataclass(frozen=True, slots=True)
class TablePlan:
    table: sa.Table
    refs: dict[str, str]
    """Column -> the table whose `pk` it holds (translated on import)."""
    surrogate: bool
    """The table has an autoincrement `pk` (a new one is drawn on import)."""
    sealed: dict[str, Context]
    binary: frozenset[str]
    """LargeBinary columns (base64 in the file)."""

    @property
    def name(self) -> str:
        return str(self.table.name)


@dataclass(frozen=True, slots=True)
class Plan:
    tables: list[TablePlan]
    """Moved tables, parents before children."""
    skipped: dict[str, str]


def _refs(table: sa.Table) -> dict[str, str]:
    refs: dict[str, str] = {}
    for column in table.columns:
        fks = list(column.foreign_keys)
        if fks:
            refs[column.name] = fks[0].column.table.name
        elif (table.name, column.name) in IMPLICIT_REFS:
            refs[column.name] = IMPLICIT_REFS[(table.name, column.name)]
    return refs


def pool_owned() -> list[sa.Table]:
    """Every table holding a pool's rows, parents before children (user_pools first)."""
    owned = {ROOT}
    ordered = [schema.user_pools]
    for table in schema.metadata.sorted_tables:
        if table.name != ROOT and set(_refs(table).values()) & owned:
            owned.add(table.name)
            ordered.append(table)
    return ordered


def plan() -> Plan:
    tables: list[TablePlan] = []
    for table in pool_owned():
        if table.name in SKIPPED:
            continue
        refs = _refs(table)
        for column_name, target in refs.items():
            if target in SKIPPED:
                raise PlanError(
                    f"{table.name}.{column_name} refers to {target}, which is not moved: "
                    "move both or neither (cognate/transfer/tables.py SKIPPED)"
                )
        for column in table.columns:
            key = (table.name, column.name)
            if (
                column.name.endswith("_pk")
                and column.name not in refs
                and key not in NOT_REFS
                and not (column.primary_key and column.name == "pk")
            ):
                raise PlanError(
                    f"{table.name}.{column.name} looks like a row key without a foreign key: "
                    "declare it in cognate/transfer/tables.py (IMPLICIT_REFS or NOT_REFS)"
                )
            if column.name.endswith("_enc") and key not in SEALED:
                raise PlanError(
                    f"{table.name}.{column.name} is sealed: declare its sealing context in "
                    "cognate/transfer/tables.py (SEALED)"
                )
        pk = table.columns.get("pk")
        tables.append(
            TablePlan(
                table=table,
                refs=refs,
                surrogate=pk is not None and pk.primary_key and pk.autoincrement is not False,
                sealed={
                    c.name: SEALED[(table.name, c.name)]
                    for c in table.columns
                    if (table.name, c.name) in SEALED
                },
                binary=frozenset(
                    c.name for c in table.columns if isinstance(c.type, sa.LargeBinary)
                ),
            )
        )
    return Plan(tables, dict(SKIPPED))


def unowned_row_keys() -> list[str]:
    """`table.column`s named like row keys in tables that are not the pool's (a pool's data
    kept without a reference the plan could follow would not be moved)."""
    owned = {t.name for t in pool_owned()}
    found = []
    for table in schema.metadata.sorted_tables:
        if table.name in owned:
            continue
        for column in table.columns:
            if column.name.endswith(("_pk", "pool_id")) and not column.primary_key:
                found.append(f"{table.name}.{column.name}")
    return found


def owned_condition(table: sa.Table, pool_pk: int, refs_of: dict[str, dict[str, str]]) -> Any:
    """A WHERE clause selecting `table`'s rows that are the pool's."""
    if table.name == ROOT:
        return schema.user_pools.c.pk == pool_pk
    refs = refs_of[table.name]
    for column, target in refs.items():
        if target == ROOT:
            return table.c[column] == pool_pk
    for column, target in refs.items():
        if target in refs_of:
            parent = schema.metadata.tables[target]
            inner = sa.select(parent.c.pk).where(owned_condition(parent, pool_pk, refs_of))
            return table.c[column].in_(inner)
    raise PlanError(f"{table.name} has no reference to follow to its pool")
