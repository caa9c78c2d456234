"""Failures stay inside the server: a crashing handler is a generic 500, a failed
transaction leaves nothing behind. Runs the app in-process (httpx's ASGI transport).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from cognate.api import dispatch
from cognate.app import build_app, build_runtime
from cognate.config import Settings
from cognate.server import run_migrations
from cognate.storage.db import Database
from cognate.storage.schema import user_pools

TARGET = "AWSCognitoIdentityProviderService."


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(
        db=f"sqlite:///{tmp_path}/unit.db", master_key_file=str(tmp_path / "master.key")
    )
    run_migrations(settings)
    return settings


def call(settings: Settings, operation: str, body: bytes) -> httpx.Response:
    app = build_app(build_runtime(settings))

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://cognate") as client:
            return await client.post(
                "/", content=body, headers={"X-Amz-Target": TARGET + operation}
            )

    return asyncio.run(send())


def test_a_crashing_handler_is_a_generic_internal_error(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(_svc: Any, _ctx: Any, _params: Any) -> None:
        raise RuntimeError("secret detail that must not leak")

    monkeypatch.setitem(dispatch._HANDLERS, "GetCSVHeader", explode)
    with caplog.at_level(logging.ERROR):
        response = call(settings, "GetCSVHeader", b'{"UserPoolId": "us-east-1_abcdefghi"}')
    assert response.status_code == 500
    assert response.headers["x-amzn-ErrorType"] == "InternalErrorException:"
    body = response.json()
    assert body["__type"] == "InternalErrorException"
    assert "secret detail" not in response.text
    assert "Traceback" not in response.text
    request_id = response.headers["x-amzn-RequestId"]
    assert any(request_id in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_failed_transaction_writes_nothing(settings: Settings) -> None:
    db = Database(settings.db, pool_size=1)

    def insert_then_fail(conn: sa.engine.Connection) -> None:
        conn.execute(
            sa.insert(user_pools).values(
                id="us-east-1_partial00",
                region="us-east-1",
                name="p",
                settings="{}",
                tags="{}",
                created_at=0,
                updated_at=0,
            )
        )
        raise RuntimeError("crash after the first write")

    with pytest.raises(RuntimeError):
        db.write("partial", insert_then_fail)
    count = db.read(
        "count", lambda c: c.execute(sa.select(sa.func.count()).select_from(user_pools)).scalar()
    )
    assert count == 0
    db.dispose()


def test_validation_happens_before_the_handler(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    monkeypatch.setitem(dispatch._HANDLERS, "GetCSVHeader", lambda *a: calls.append(a))
    response = call(settings, "GetCSVHeader", b"{}")
    assert response.status_code == 400
    assert response.json()["__type"] == "InvalidParameterException"
    assert calls == []
