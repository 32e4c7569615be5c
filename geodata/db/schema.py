"""The whole schema: importing this module registers every table on ``Base.metadata``.

Alembic's env.py and the schema tests import it; each domain keeps its tables in its own module.
"""

from __future__ import annotations

from geodata.consolidation import tables as consolidation_tables  # 0004
from geodata.db import (
    accounts_tables,  # 0010
    stock_tables,  # 0013
    tickets_tables,  # 0002, 0006, 0012 (auctions shared with land)
    trade_tables,  # 0012
    trading_tables,  # 0012
)
from geodata.db.tables import GEOMETRY_INDEXES, Base
from geodata.listings import tables as listings_tables  # 0003
from geodata.screening import tables as screening_tables  # 0005

__all__ = [
    "GEOMETRY_INDEXES",
    "Base",
    "accounts_tables",
    "consolidation_tables",
    "listings_tables",
    "screening_tables",
    "stock_tables",
    "tickets_tables",
    "trade_tables",
    "trading_tables",
]
