"""OGC API errors: a bad parameter is a 400 (Part 1 /req/core/query-param-invalid), as problem+json."""

from __future__ import annotations

from landmarket.errors import InvalidInput, RecordProblem


class OgcBadRequest(InvalidInput):
    """An unknown or invalid query parameter."""

    status = 400
    title = "请求参数无效 / Bad request parameter"

    def __init__(self, problem: str, param: str) -> None:
        super().__init__([RecordProblem("query", problem, param)], source="OGC API - Features")
