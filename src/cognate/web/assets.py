"""Images that branding API responses point at, served by this server.

`GET /_cognate/assets/<poolId>/<clientId|ALL>/<CSSVersion>.<png|jpg>`: the hosted UI
(classic) logo of SetUICustomization, at the ImageUrl Cognito-style responses report
(Cognito serves it from CloudFront under a path with the same parts). Only the current
version is served. `GET /_cognate/branding/<poolId>/<brandingId>/<ResourceId>.<ext>`: a
managed login style's asset, for the hosted pages.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cognate.domain.branding import BrandingService
from cognate.domain.ui_customization import UICustomizationService

_CACHE = "public, max-age=300"


class AssetRoutes:
    def __init__(self, ui: UICustomizationService, branding: BrandingService) -> None:
        self._ui = ui
        self._branding = branding

    def routes(self) -> list[Route]:
        return [
            Route("/_cognate/assets/{pool_id}/{client_id}/{file}", self.logo, methods=["GET"]),
            Route(
                "/_cognate/branding/{pool_id}/{branding_id}/{file}",
                self.branding_asset,
                methods=["GET"],
            ),
        ]

    async def logo(self, request: Request) -> Response:
        p = request.path_params
        logo = await run_in_threadpool(self._ui.logo, p["pool_id"], p["client_id"], p["file"])
        if logo is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        return Response(logo.image, media_type=logo.content_type, headers={"Cache-Control": _CACHE})

    async def branding_asset(self, request: Request) -> Response:
        p = request.path_params
        asset = await run_in_threadpool(
            self._branding.asset, p["pool_id"], p["branding_id"], p["file"]
        )
        if asset is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        return Response(
            asset.data, media_type=asset.content_type, headers={"Cache-Control": _CACHE}
        )
