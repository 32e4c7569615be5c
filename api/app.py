"""The application factory: settings-driven, routers registered from one list."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from api.errors import install_problem_handlers, problem_responses
from api.limits import BodyLimitMiddleware
from api.locale import LocaleMiddleware
from api.statuses import declare_problem_statuses
from geodata.db.engine import get_engine
from geodata.settings import Settings, get_settings
from geodata.uploads import clean_stale_uploads, upload_root
from maps.assets import STATIC_DIR, STATIC_URL, SWAGGER_CSS, SWAGGER_FAVICON, SWAGGER_JS

TITLE = "landmarket 重庆农村土地市场平台 / Chongqing rural land market platform"
VERSION = "0.1.0"

# Each module exposes `router: fastapi.APIRouter` (with its own prefix and tags).
# Add yours here in one line; map pages are routers whose GET paths start with /maps/.
ROUTER_MODULES = [
    "api.routers.health",
    "api.routers.parcels",
    "api.routers.maps",
    "api.routers.checks",
    "api.routers.screenings",
    "api.routers.bureau",
    "api.routers.zoning",
    "api.routers.consolidation",
    "api.routers.listings",
    "api.routers.tiles",
    "api.routers.withdrawals",
    "api.routers.tickets",
    "api.routers.exchange",
    "api.routers.trading",
    "api.routers.deals",
    "api.routers.ogc",
    "api.routers.exports",
    "api.routers.stock",
    "api.routers.market_maps",
]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """At shutdown, close the approval-route cache's own connection (made at the first check)."""
    yield
    cache = getattr(app.state, "route_cache", None)
    if cache is not None:
        cache.close()


def create_app(settings: Settings | None = None, database_url: str | None = None) -> FastAPI:
    """Build the platform's FastAPI app against settings (default: the environment's)."""
    settings = settings or get_settings()
    url = database_url or settings.effective_database_url

    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description="RFC 9457 problem+json errors; bearer tokens for bureau, collective and "
        "investor roles; anonymous callers are the public role.",
        docs_url=None,
        responses=problem_responses(422),
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.database_url = url
    app.state.engine = get_engine(url)
    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(GZipMiddleware, minimum_size=1024)  # JSON, GeoJSON, HTML and tiles
    app.add_middleware(LocaleMiddleware)  # outermost: every response, errors included
    clean_stale_uploads(upload_root(settings))  # folders of processes that died mid-upload
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=TITLE,
            swagger_js_url=SWAGGER_JS,
            swagger_css_url=SWAGGER_CSS,
            swagger_favicon_url=SWAGGER_FAVICON,
            swagger_ui_parameters={"validatorUrl": None},
        )

    pages: list[tuple[str, str]] = []
    for name in ROUTER_MODULES:
        router: APIRouter = importlib.import_module(name).router
        app.include_router(router)
        pages += [
            (route.path, route.summary or route.path)
            for route in router.routes
            if isinstance(route, APIRoute)
            and route.path.startswith("/maps/")
            and "{" not in route.path
            and "GET" in route.methods
        ]
    app.state.map_pages = sorted(pages)
    importlib.import_module("web.app").install(app)  # the browser workbench (pages at /)
    declare_problem_statuses(app)  # after every router: each operation's 401/403/404/413/422
    return app


def map_pages(app: FastAPI) -> list[tuple[str, str]]:
    """(path, title) of every map page: GET routes under /maps/ without path parameters."""
    return list(app.state.map_pages)
