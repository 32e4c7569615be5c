"""The exchange's one auction engine on PostGIS, shared by land tickets and land use rights."""

from geodata.auctions.engine import (
    LotRow,
    close_lot,
    insert_lot,
    lock_lot,
    place_bid,
    record_result,
    run_conn,
)

__all__ = [
    "LotRow",
    "close_lot",
    "insert_lot",
    "lock_lot",
    "place_bid",
    "record_result",
    "run_conn",
]
