"""GET /openapi.json (the OpenAPI 3.1 document) and /docs (Swagger UI, served locally)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from scope_search_api.keys import OPENAPI
from scope_search_api.params import check_known
from scope_search_api.responses import cached

SWAGGER_UI = Path(__file__).resolve().parents[1] / "static" / "swagger-ui"
STATIC_PREFIX = "/docs/static"
DOCS_MAX_AGE = 3600

DOCS_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Scope search API</title>
  <link rel="stylesheet" href="{STATIC_PREFIX}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{STATIC_PREFIX}/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      tryItOutEnabled: true
    }});
  </script>
</body>
</html>
""".encode()

routes = web.RouteTableDef()


@routes.get("/openapi.json", name="openapi")
async def openapi(request: web.Request) -> web.Response:
    check_known(request.query, ())
    return cached(request, request.app[OPENAPI], max_age=DOCS_MAX_AGE)


@routes.get("/docs", name="docs")
async def docs(request: web.Request) -> web.Response:
    check_known(request.query, ())
    return cached(
        request, DOCS_PAGE, content_type="text/html", charset="utf-8", max_age=DOCS_MAX_AGE
    )


def add_static(app: web.Application) -> None:
    app.router.add_static(STATIC_PREFIX, SWAGGER_UI, name="swagger_ui")
