"""Typed errors of the domain core; the edges turn them into problem+json or CLI messages."""

from __future__ import annotations

from dataclasses import dataclass, field


class LandmarketError(Exception):
    """Base of every error the platform raises on purpose."""

    status = 400
    title = "请求无效 / Invalid request"


@dataclass
class RecordProblem:
    """One problem with one input record: which record, which field, what is wrong."""

    record: str  # e.g. "feature 12", "line 48", "parcel 500111001002JC00012"
    problem: str
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.record}" + (f" [{self.field}]" if self.field else "")
        return f"{where}: {self.problem}"


@dataclass
class InvalidInput(LandmarketError):
    """Input that cannot be accepted; lists every offending record."""

    problems: list[RecordProblem] = field(default_factory=list)
    source: str | None = None

    status = 422
    title = "输入数据有误 / Invalid input data"

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        head = f"{self.source}: " if self.source else ""
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"{head}{len(self.problems)} problem(s)\n{lines}"


class NotFound(LandmarketError):
    """A named record does not exist."""

    status = 404
    title = "未找到 / Not found"


class Forbidden(LandmarketError):
    """The caller's role may not do this."""

    status = 403
    title = "无权操作 / Forbidden"


class Conflict(LandmarketError):
    """The request conflicts with the current state (e.g. not enough ticket area left)."""

    status = 409
    title = "状态冲突 / Conflict"
