"""The read functions the hosted pages use for a client's branding, classic customization
and terms (`branding_for`, `ui_customization_for`, `logo_path_for`, `terms_for`), against
services run in-process on SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cognate.app import Runtime, build_runtime
from cognate.config import Settings
from cognate.domain.branding import branding_for
from cognate.domain.terms import terms_for
from cognate.domain.ui_customization import logo_path_for, ui_customization_for
from cognate.server import run_migrations
from cognate.storage.repos import pools as pools_repo

REGION = "us-east-1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@pytest.fixture
def runtime(tmp_path: Path) -> Runtime:
    settings = Settings(
        db=f"sqlite:///{tmp_path}/unit.db", master_key_file=str(tmp_path / "master.key")
    )
    run_migrations(settings)
    return build_runtime(settings)


def read(runtime: Runtime, pool_id: str, fn: Any) -> Any:
    def txn(conn: Any) -> Any:
        pool = pools_repo.get(conn, pool_id, REGION)
        assert pool is not None
        return fn(conn, pool.pk)

    return runtime.db.read("test_read", txn)


def test_reads_for_hosted_pages(runtime: Runtime) -> None:
    svc = runtime.services
    pool_id = svc.pools.create(REGION, {"PoolName": "p"})["Id"]
    client_id = svc.clients.create(REGION, {"UserPoolId": pool_id, "ClientName": "a"})["ClientId"]
    other_id = svc.clients.create(REGION, {"UserPoolId": pool_id, "ClientName": "b"})["ClientId"]
    svc.domains.create(REGION, {"UserPoolId": pool_id, "Domain": "reads-test-prefix"})

    assert read(runtime, pool_id, lambda c, pk: branding_for(c, pk, client_id)) is None
    assert read(runtime, pool_id, lambda c, pk: ui_customization_for(c, pk, client_id)) is None
    assert read(runtime, pool_id, lambda c, pk: terms_for(c, pk, client_id)) == []

    svc.ui_customization.set(REGION, {"UserPoolId": pool_id, "ClientId": "ALL", "CSS": ""})
    svc.ui_customization.set(
        REGION,
        {
            "UserPoolId": pool_id,
            "ClientId": client_id,
            "CSS": ".logo-customizable { max-width: 50%; }",
            "ImageFile": PNG,
        },
    )
    css, image = read(runtime, pool_id, lambda c, pk: ui_customization_for(c, pk, client_id))
    assert (css, image) == (".logo-customizable { max-width: 50%; }", PNG)
    assert read(runtime, pool_id, lambda c, pk: ui_customization_for(c, pk, other_id)) == (
        "",
        None,
    )  # the pool-wide one
    path = read(runtime, pool_id, lambda c, pk: logo_path_for(c, pk, pool_id, client_id))
    assert path is not None
    assert path.startswith(f"/_cognate/assets/{pool_id}/{client_id}/")
    version_file = path.rsplit("/", 1)[1]
    logo = svc.ui_customization.logo(pool_id, client_id, version_file)
    assert logo is not None
    assert (logo.image, logo.content_type) == (PNG, "image/png")

    svc.branding.create(
        REGION,
        {
            "UserPoolId": pool_id,
            "ClientId": client_id,
            "Settings": {"categories": {"global": {"colorSchemeMode": "DARK"}}},
            "Assets": [
                {"Category": "FORM_LOGO", "ColorMode": "LIGHT", "Extension": "PNG", "Bytes": PNG}
            ],
        },
    )
    style = read(runtime, pool_id, lambda c, pk: branding_for(c, pk, client_id))
    assert style["Settings"]["categories"]["global"]["colorSchemeMode"] == "DARK"
    assert "form" in style["Settings"]["categories"]  # merged over the defaults
    assert style["Assets"][0]["Bytes"] == PNG
    assert read(runtime, pool_id, lambda c, pk: branding_for(c, pk, other_id)) is None

    svc.terms.create(
        REGION,
        {
            "UserPoolId": pool_id,
            "ClientId": client_id,
            "TermsName": "privacy-policy",
            "TermsSource": "LINK",
            "Enforcement": "NONE",
            "Links": {"cognito:default": "https://example.com/privacy"},
        },
    )
    terms = read(runtime, pool_id, lambda c, pk: terms_for(c, pk, client_id))
    assert [(t["TermsName"], t["Links"]) for t in terms] == [
        ("privacy-policy", {"cognito:default": "https://example.com/privacy"})
    ]
    assert read(runtime, pool_id, lambda c, pk: terms_for(c, pk, other_id)) == []
    runtime.db.dispose()
