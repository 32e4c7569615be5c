"""GET /health: the platform is up and its PostGIS database answers."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.deps import SessionDep
from api.errors import PROBLEM_JSON, problem_type
from landmarket.i18n import localize

router = APIRouter(tags=["health"])


@router.get("/health", summary="健康检查 / Health check (database and PostGIS)")
def health(session: SessionDep) -> JSONResponse:
    """200 with the PostGIS version when the database answers, 503 problem+json otherwise."""
    try:
        postgis = session.execute(text("SELECT postgis_full_version()")).scalar_one()
    except SQLAlchemyError as exc:
        body = {
            "type": problem_type("database-unavailable"),
            "title": localize("数据库不可用 / Database unavailable"),
            "status": 503,
            "detail": str(exc.__cause__ or exc).splitlines()[0],
            "instance": "/health",
            "errors": [{"record": "database", "field": None, "problem": "no PostGIS answer"}],
        }
        return JSONResponse(body, status_code=503, media_type=PROBLEM_JSON)
    return JSONResponse({"status": "ok", "database": "ok", "postgis": postgis})
