"""Land ticket certificate numbers: 渝地票〔2026〕第000123号 and its ASCII twin YDP-2026-000123.

A ticket split off another keeps its parent's number with a suffix (第000123-1号,
YDP-2026-000123-1), so the number alone shows the lineage; a merged ticket gets a new number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from landmarket.errors import InvalidInput, RecordProblem

_CN_RE = re.compile(r"^渝地票[〔\[(（](\d{4})[〕\])）]第(\d{6})((?:-\d+)*)号$")
_ASCII_RE = re.compile(r"^YDP-(\d{4})-(\d{6})((?:-\d+)*)$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class CertificateNumber:
    """A parsed certificate number: year, sequence and the split path (child indexes)."""

    year: int
    sequence: int
    path: tuple[int, ...] = ()

    @property
    def chinese(self) -> str:
        """The printed form, 渝地票〔2026〕第000123号."""
        return f"渝地票〔{self.year}〕第{self.sequence:06d}{self._suffix}号"

    @property
    def ascii(self) -> str:
        """The URL- and shell-friendly form, YDP-2026-000123."""
        return f"YDP-{self.year}-{self.sequence:06d}{self._suffix}"

    @property
    def _suffix(self) -> str:
        return "".join(f"-{i}" for i in self.path)

    def child(self, index: int) -> CertificateNumber:
        """The number of the index-th ticket split off this one (1-based)."""
        if index < 1:
            raise ValueError("child index starts at 1")
        return CertificateNumber(self.year, self.sequence, (*self.path, index))

    def __str__(self) -> str:
        return self.chinese


def certificate_number(year: int, sequence: int) -> CertificateNumber:
    """The certificate number of a newly issued (or merged) ticket."""
    if not 1000 <= year <= 9999 or not 1 <= sequence <= 999_999:
        raise InvalidInput(
            [RecordProblem(f"{year}/{sequence}", "证书编号越界 / out of range", "cert_no")]
        )
    return CertificateNumber(year, sequence)


def parse_certificate(text: str) -> CertificateNumber:
    """Parse either form (full-width or ASCII brackets accepted); raises InvalidInput."""
    cleaned = text.strip()
    match = _CN_RE.match(cleaned) or _ASCII_RE.match(cleaned)
    if not match:
        raise InvalidInput(
            [
                RecordProblem(
                    repr(text),
                    "地票证书编号格式应为 渝地票〔2026〕第000123号 或 YDP-2026-000123 / "
                    "certificate number must look like 渝地票〔2026〕第000123号 or YDP-2026-000123",
                    "cert_no",
                )
            ]
        )
    year, seq, suffix = match.groups()
    path = tuple(int(p) for p in suffix.split("-") if p)
    if any(p < 1 for p in path):
        raise InvalidInput(
            [RecordProblem(repr(text), "拆分序号从1开始 / split index starts at 1", "cert_no")]
        )
    return CertificateNumber(int(year), int(seq), path)
