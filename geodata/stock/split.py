"""Split registration (工业项目分割登记): a right's land cut into unit parcels, each its own right.

All-or-nothing under the parent parcel's lock: the split check over the units (landmarket.stock),
new JB parcels with the next free codes of the village, one split right per unit superseding the
parent right with the unit's registered area (the parts add up to the whole) and floor area.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.consolidation.parcels import assign_parcel_codes
from geodata.db.tables import SRID
from geodata.stock.repository import refusal
from geodata.store import import_frame
from geodata.tickets.core import ActorLike, Target, require_role, run
from geodata.trading.rights import get_right, lock_parcel, register_in_session, right_view
from landmarket.errors import Conflict
from landmarket.policy import Policy
from landmarket.stock import SplitFacts, SplitUnit, assess_split
from landmarket.stock.split import registered_areas
from landmarket.trading.rights import occupies

M0_LAND_USE = "100100"  # Chongqing's M0 planning code (渝规资〔2021〕710号)


def split_right(
    target: Target,
    actor: ActorLike,
    policy: Policy,
    right_no: str,
    *,
    floor_area_m2: Decimal,
    units: list[SplitUnit],
    on: date,
) -> dict[str, Any]:
    """Split a registered right into unit parcels and rights, or refuse naming the failed rules."""
    require_role(actor, "bureau")

    def work(s: Session) -> dict[str, Any]:
        parent = get_right(s, right_no, on)
        parcel = lock_parcel(s, parent.parcel_code)
        parent = get_right(s, str(parent.id), on)  # its status under the lock
        if not occupies(parent.status):
            raise Conflict(
                f"权利 {parent.right_no} 状态为 {parent.status}, 不能分割 / right is {parent.status}"
            )
        row = s.execute(
            text("SELECT ST_AsBinary(r.geom) AS wkb, p.land_use_code FROM land_rights r JOIN parcels p "
                 "ON p.id = r.parcel_id WHERE r.id = :r"),
            {"r": parent.id},
        ).one()  # fmt: skip
        m0 = parent.use == "m0" or row.land_use_code == M0_LAND_USE
        facts = SplitFacts(parent.use, m0, shapely.from_wkb(bytes(row.wkb)), parent.area_m2,
                           floor_area_m2, tuple(units), on)  # fmt: skip
        verdict = assess_split(facts, policy)
        if verdict.verdict != "eligible":
            raise refusal(f"right {parent.right_no}", verdict)
        areas = registered_areas(facts)
        rows = [
            {"parcel_code": None, "land_use_code": row.land_use_code,
             "village_code": parcel.village_code, "registered": True,
             "registered_area_m2": float(area),  # the exact share: the parts sum to the whole
             "name": f"{parent.parcel_code} 分割单元 {i + 1}", "split_of": parent.right_no,
             "floor_area_m2": float(u.floor_area_m2), "geometry": u.geometry}
            for i, (u, area) in enumerate(zip(units, areas, strict=True))
        ]  # fmt: skip
        codes = assign_parcel_codes(s, rows)
        frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=SRID)
        import_frame(s, frame, "parcels", source_name=f"split-{parent.right_no}", actor=actor.actor)
        made = []
        for code, area, unit in zip(codes, areas, units, strict=True):
            right = register_in_session(
                s, actor, parcel_code=code, holder_id=parent.holder_id,
                holder_name=parent.holder_name, method=parent.method.value, use=parent.use,
                term_years=parent.term_years, starts_on=parent.starts_on, registered_on=on,
                basis="split", supersedes=parent.right_no,
                reason=f"分割登记 / split: {area} m² land, {unit.floor_area_m2} m² floor",
            )  # fmt: skip
            made.append({**right_view(right), "registered_area_m2": str(area),
                         "floor_area_m2": str(unit.floor_area_m2)})  # fmt: skip
        return {"parent": parent.right_no, "units": made, "check": verdict.to_dict()}

    return run(target, work)
