"""SQL for managed login branding styles. No policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.jsoncol import dumps, loads
from cognate.storage.schema import managed_login_brandings

_B = managed_login_brandings


@dataclass(frozen=True, slots=True)
class BrandingRow:
    pk: int
    client_pk: int
    branding_id: str
    use_cognito_provided_values: bool
    settings: dict[str, Any] | None
    assets: list[dict[str, Any]]
    created_at: int
    updated_at: int


_COLUMNS = (
    _B.c.pk,
    _B.c.client_pk,
    _B.c.branding_id,
    _B.c.use_cognito_provided_values,
    _B.c.settings,
    _B.c.assets,
    _B.c.created_at,
    _B.c.updated_at,
)
_BY_ID = sa.select(*_COLUMNS).where(
    _B.c.pool_pk == sa.bindparam("pool_pk"), _B.c.branding_id == sa.bindparam("branding_id")
)
_BY_CLIENT = sa.select(*_COLUMNS).where(_B.c.client_pk == sa.bindparam("client_pk"))


def _row(r: Any) -> BrandingRow:
    return BrandingRow(
        r.pk,
        r.client_pk,
        r.branding_id,
        bool(r.use_cognito_provided_values),
        loads(r.settings) if r.settings is not None else None,
        loads(r.assets),
        r.created_at,
        r.updated_at,
    )


def by_id(conn: Connection, pool_pk: int, branding_id: str) -> BrandingRow | None:
    r = conn.execute(_BY_ID, {"pool_pk": pool_pk, "branding_id": branding_id}).first()
    return _row(r) if r is not None else None


def by_client(conn: Connection, client_pk: int) -> BrandingRow | None:
    r = conn.execute(_BY_CLIENT, {"client_pk": client_pk}).first()
    return _row(r) if r is not None else None


def insert(
    conn: Connection,
    *,
    pool_pk: int,
    client_pk: int,
    branding_id: str,
    use_cognito_provided_values: bool,
    settings: dict[str, Any] | None,
    assets: list[dict[str, Any]],
    now: int,
) -> None:
    conn.execute(
        sa.insert(_B).values(
            pool_pk=pool_pk,
            client_pk=client_pk,
            branding_id=branding_id,
            use_cognito_provided_values=use_cognito_provided_values,
            settings=dumps(settings) if settings is not None else None,
            assets=dumps(assets),
            created_at=now,
            updated_at=now,
        )
    )


def update(
    conn: Connection,
    pk: int,
    *,
    use_cognito_provided_values: bool,
    settings: dict[str, Any] | None,
    assets: list[dict[str, Any]],
    now: int,
) -> None:
    conn.execute(
        sa.update(_B)
        .where(_B.c.pk == pk)
        .values(
            use_cognito_provided_values=use_cognito_provided_values,
            settings=dumps(settings) if settings is not None else None,
            assets=dumps(assets),
            updated_at=now,
        )
    )


def delete(conn: Connection, pk: int) -> None:
    conn.execute(sa.delete(_B).where(_B.c.pk == pk))
