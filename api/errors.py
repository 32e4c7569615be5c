"""RFC 9457 problem+json: every error the API returns names its type, title, field and record."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from landmarket.errors import InvalidInput, LandmarketError
from landmarket.i18n import localize
from landmarket.i18n.validation import validation_message

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)

# Bilingual titles for plain HTTP errors raised by the framework itself.
HTTP_TITLES = {
    400: "请求无效 / Bad request",
    401: "未认证 / Unauthorized",
    403: "无权操作 / Forbidden",
    404: "未找到 / Not found",
    405: "方法不允许 / Method not allowed",
    409: "状态冲突 / Conflict",
    413: "请求过大 / Payload too large",
    415: "不支持的媒体类型 / Unsupported media type",
    422: "请求参数无效 / Invalid request parameters",
    500: "服务器内部错误 / Internal server error",
}


class ProblemItem(BaseModel):
    """One offending record of a problem."""

    record: str
    field: str | None = None
    problem: str


class Problem(BaseModel):
    """RFC 9457 problem details as this platform returns them."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemItem] = []


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting problem+json for the given statuses."""
    schema = {"schema": {"$ref": "#/components/schemas/Problem"}}
    return {
        s: {"model": Problem, "content": {PROBLEM_JSON: schema}, "description": HTTP_TITLES[s]}
        for s in statuses
    }


class Unauthorized(LandmarketError):
    """A bearer token that is malformed, unknown or revoked."""

    status = 401
    title = "未认证 / Unauthorized"


def problem_type(slug: str) -> str:
    """The problem type URI of a slug such as 'invalid-input'."""
    return f"urn:landmarket:problem:{slug}"


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str,
    slug: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response (type, title, status, detail, instance, errors).

    The title is translated into the request's locale (Accept-Language; Chinese by default).
    """
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": localize(title),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "errors": errors or [],
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _landmarket_error(request: Request, exc: LandmarketError) -> JSONResponse:
    problems = getattr(exc, "problems", None) or []  # InvalidInput, or others that list records
    errors = [{"record": p.record, "field": p.field, "problem": p.problem} for p in problems]
    if isinstance(exc, InvalidInput):
        head = f"{exc.source}: " if exc.source else ""
        detail = head + "; ".join(str(p) for p in exc.problems[:5])
        if len(exc.problems) > 5:
            detail += f"; … ({len(exc.problems)} 项 / problems)"
    else:
        detail = str(exc) or exc.title
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return problem_response(
        request, exc.status, exc.title, detail, _slug(type(exc).__name__), errors, headers
    )


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        where = loc[0] if loc else "request"
        field = ".".join(loc[1:]) or None
        problem = validation_message(err.get("type", ""), err.get("ctx"), err.get("msg", "invalid"))
        errors.append({"record": where, "field": field, "problem": problem})
    detail = "; ".join(
        f"{e['record']}" + (f" [{e['field']}]" if e["field"] else "") + f": {e['problem']}"
        for e in errors
    )
    return problem_response(request, 422, HTTP_TITLES[422], detail, "invalid-parameters", errors)


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    status = exc.status_code
    title = HTTP_TITLES.get(status) or HTTPStatus(status).phrase
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return problem_response(
        request,
        status,
        title,
        detail,
        _slug(HTTPStatus(status).name.title().replace("_", "")),
        headers=getattr(exc, "headers", None),
    )


def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return problem_response(
        request,
        500,
        HTTP_TITLES[500],
        localize("服务器内部错误，已记录 / internal error, logged"),
        "internal",
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Register the problem+json handlers on an app."""
    app.add_exception_handler(LandmarketError, _landmarket_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
