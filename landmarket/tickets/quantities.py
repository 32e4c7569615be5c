"""Exact areas and money for the ticket ledger: Decimal to 0.01 m² and 0.01 yuan, never floats."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from landmarket.errors import InvalidInput, RecordProblem

CENT = Decimal("0.01")
MU_DECIMALS = Decimal("0.0001")
M2_PER_MU = Decimal(10000) / Decimal(15)  # 1 mu = 10000/15 m², kept exact until rounding
ZERO = Decimal("0.00")


def _decimal(value: object, record: str, field: str) -> Decimal:
    """A finite Decimal from int, str, float or Decimal; floats via repr (no binary noise)."""
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput(
            [RecordProblem(record, f"不是数值 / not a number: {value!r}", field)]
        ) from exc
    if not number.is_finite():
        raise InvalidInput([RecordProblem(record, f"数值无效 / not finite: {value!r}", field)])
    return number


def area(value: object, record: str = "area", field: str = "area_m2") -> Decimal:
    """An area in m², rounded half-up to 0.01 m²; negative areas are refused."""
    number = _decimal(value, record, field).quantize(CENT, rounding=ROUND_HALF_UP)
    if number < 0:
        raise InvalidInput([RecordProblem(record, f"面积为负 / negative area: {number}", field)])
    return number


def positive_area(value: object, record: str = "area", field: str = "area_m2") -> Decimal:
    """An area in m² that must be greater than zero."""
    number = area(value, record, field)
    if number == 0:
        raise InvalidInput([RecordProblem(record, "面积须大于零 / area must be > 0", field)])
    return number


def money(value: object, record: str = "amount", field: str = "yuan") -> Decimal:
    """An amount in yuan, rounded half-up to 0.01 (may be negative: a net loss is reported)."""
    return _decimal(value, record, field).quantize(CENT, rounding=ROUND_HALF_UP)


def m2_to_mu(m2: Decimal) -> Decimal:
    """Square metres to mu, to 4 decimals as certificates show it."""
    return (m2 / M2_PER_MU).quantize(MU_DECIMALS, rounding=ROUND_HALF_UP)


def mu_exact(m2: Decimal) -> Decimal:
    """Square metres to mu without rounding (for money: price per mu × area)."""
    return m2 * Decimal(15) / Decimal(10000)


def mu_to_m2(mu: object) -> Decimal:
    """Mu to square metres, to 0.01 m²."""
    return (_decimal(mu, "area", "area_mu") * M2_PER_MU).quantize(CENT, rounding=ROUND_HALF_UP)


def area_view(m2: Decimal) -> dict[str, str]:
    """An area as certificates show it: m² to 0.01, mu to 0.0001 (strings stay exact)."""
    return {"m2": str(m2.quantize(CENT)), "mu": str(m2_to_mu(m2))}
