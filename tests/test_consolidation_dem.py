"""Consolidation with a DEM instead of per-plot slopes: plots graded by the DEM, steep units dropped."""

from __future__ import annotations

from datetime import date

import numpy as np
import shapely
from affine import Affine

from landmarket.areas import gk_epsg
from landmarket.consolidation.plan import RECLAIMED, UNMOVABLE
from landmarket.consolidation.planner import plan_consolidation
from landmarket.consolidation.sample import X0, Y0, ZONE, sample_village
from landmarket.eligibility.context import ConstraintContext
from landmarket.policy import load_policy
from landmarket.slope import Dem

CELL = 10.0


def sample_dem() -> Dem:
    """Gentle 1° slope everywhere, a 30° hillside over x 560–740 (zone B) and y ≥ 1100 (north)."""
    cols, rows = 190, 160  # x -150..1750, y -150..1450
    x = -150 + CELL * (np.arange(cols) + 0.5)
    y = 1450 - CELL * (np.arange(rows) + 0.5)
    xx, yy = np.meshgrid(x, y)
    z = 300.0 + np.tan(np.radians(1.0)) * xx
    steep = np.tan(np.radians(30.0))
    z += np.where((xx >= 560) & (xx <= 740), steep * yy, 0.0)
    z += np.where(yy >= 1100, steep * (yy - 1100), 0.0)
    transform = Affine(CELL, 0, X0 - 150, 0, -CELL, Y0 + 1450)
    return Dem(z, transform, gk_epsg(ZONE))


def test_dem_grades_plots_and_drops_steep_destination_units():
    village = sample_village()
    c = village.context
    context = ConstraintContext(
        pbf=c.pbf,
        redline=c.redline,
        udb=c.udb,
        village_plan=c.village_plan,
        parcels=c.parcels,
        dem=sample_dem(),
    )
    plots = village.plots.drop(columns="slope_deg")
    plan = plan_consolidation(
        plots, load_policy(date(2026, 1, 1)), context=context, destinations=village.destinations
    )
    roles = {o.plot_id: o for o in plan.origins}
    # P18 sits on the 30° northern hillside; P20 (no slope given) is now graded by the DEM.
    assert roles["P18"].role == UNMOVABLE and roles["P18"].slope_mean_deg > 25
    assert roles["P20"].role == RECLAIMED and roles["P20"].slope_grade == 1
    dropped = [r for r in plan.candidates["removed"] if "buildable" in r["reason"]]
    assert dropped and all(r["source_id"].startswith("B/") for r in dropped)
    zone_b = shapely.union_all(
        village.destinations[village.destinations.area_id == "B"].geometry.to_numpy()
    )
    assert all(d.geometry.intersection(zone_b).area == 0 for d in plan.destinations)
    assert plan.balance.area_ok and plan.balance.arable_ok
