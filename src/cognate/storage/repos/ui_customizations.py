"""SQL for hosted UI (classic) customizations. No policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cognate.storage.schema import ui_customizations

_U = ui_customizations


@dataclass(frozen=True, slots=True)
class UICustomizationRow:
    pk: int
    client_id: str
    css: str | None
    image: bytes | None
    image_extension: str | None
    version: str
    created_at: int
    updated_at: int


_COLUMNS = (
    _U.c.pk,
    _U.c.client_id,
    _U.c.css,
    _U.c.image,
    _U.c.image_extension,
    _U.c.version,
    _U.c.created_at,
    _U.c.updated_at,
)
_GET = sa.select(*_COLUMNS).where(
    _U.c.pool_pk == sa.bindparam("pool_pk"), _U.c.client_id == sa.bindparam("client_id")
)


def _row(r: Any) -> UICustomizationRow:
    image = bytes(r.image) if r.image is not None else None
    return UICustomizationRow(
        r.pk, r.client_id, r.css, image, r.image_extension, r.version, r.created_at, r.updated_at
    )


def get(conn: Connection, pool_pk: int, client_id: str) -> UICustomizationRow | None:
    r = conn.execute(_GET, {"pool_pk": pool_pk, "client_id": client_id}).first()
    return _row(r) if r is not None else None


def insert(
    conn: Connection,
    *,
    pool_pk: int,
    client_pk: int | None,
    client_id: str,
    css: str | None,
    image: bytes | None,
    image_extension: str | None,
    version: str,
    now: int,
) -> None:
    conn.execute(
        sa.insert(_U).values(
            pool_pk=pool_pk,
            client_pk=client_pk,
            client_id=client_id,
            css=css,
            image=image,
            image_extension=image_extension,
            version=version,
            created_at=now,
            updated_at=now,
        )
    )


def update(
    conn: Connection,
    pk: int,
    *,
    css: str | None,
    image: bytes | None,
    image_extension: str | None,
    version: str,
    now: int,
) -> None:
    conn.execute(
        sa.update(_U)
        .where(_U.c.pk == pk)
        .values(
            css=css, image=image, image_extension=image_extension, version=version, updated_at=now
        )
    )
