"""Bounded parameter types declared once: ids and offsets that a PostgreSQL bigint can hold.

A path id or an offset beyond what the database can compare is refused as a 422 naming the
parameter (not passed on to fail in SQL as a 500); an id that fits but names nothing is a 404.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

BIGINT_MAX = 2**63 - 1  # PostgreSQL bigint; every id column and OFFSET fits in it

RecordId = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="记录编号 / record id (1 … 2⁶³−1)")]
OptionalRecordId = Annotated[
    int | None, Query(ge=1, le=BIGINT_MAX, description="记录编号 / record id (1 … 2⁶³−1)")
]
Offset = Annotated[
    int, Query(ge=0, le=BIGINT_MAX, description="跳过条数 / rows to skip (0 … 2⁶³−1)")
]

# Request-body bounds: what the columns behind them hold (ids bigint, areas numeric(14, 2) m²,
# money numeric(16, 2) yuan); larger numbers are 422 naming the field, not an overflow in SQL.
AREA_MAX_M2 = Decimal("999999999999.99")
AREA_MAX_MU = Decimal("1499999999")  # × 666.67 m²/mu stays within AREA_MAX_M2
MONEY_MAX = Decimal("99999999999999.99")

IdField = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
AreaM2 = Annotated[Decimal, Field(gt=0, le=AREA_MAX_M2, allow_inf_nan=False)]
AreaMu = Annotated[Decimal, Field(gt=0, le=AREA_MAX_MU, allow_inf_nan=False)]
Money = Annotated[Decimal, Field(ge=0, le=MONEY_MAX, allow_inf_nan=False)]
