"""The stored constraint layers around one site, as the ConstraintContext the checks read."""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.db.tables import SRID
from landmarket.eligibility import ConstraintContext

MARGIN_DEG = 0.002  # ~200 m: features just outside the site still matter for slivers at its edge

# Layers whose coverage touches the box, and their features inside it (one statement each).
LAYERS_SQL = text(
    """
    SELECT id, kind, ST_AsBinary(ST_Intersection(coverage, box)) AS coverage
    FROM constraint_layers, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, :srid) AS box
    WHERE coverage && box AND ST_Intersects(coverage, box)
    ORDER BY id
    """
)
FEATURES_SQL = text(
    """
    SELECT f.kind, f.plan_code, ST_AsBinary(f.geom) AS geom
    FROM constraint_features f, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, :srid) AS box
    WHERE f.layer_id = ANY(:layers) AND f.geom && box
    ORDER BY f.id
    """
)


def context_for(session: Session, site: BaseGeometry) -> ConstraintContext:
    """PBF, red line, UDB and village plan (with their coverage) around a site in EPSG:4490.

    A kind with no stored layer covering the site is left out, so the checks report it as
    missing (needs review) rather than as "no constraint here".
    """
    minx, miny, maxx, maxy = site.bounds
    box = {
        "minx": minx - MARGIN_DEG,
        "miny": miny - MARGIN_DEG,
        "maxx": maxx + MARGIN_DEG,
        "maxy": maxy + MARGIN_DEG,
        "srid": SRID,
    }
    layers: dict[str, list[int]] = {}
    coverage: dict[str, list[BaseGeometry]] = {}
    for row in session.execute(LAYERS_SQL, box):
        layers.setdefault(row.kind, []).append(row.id)
        coverage.setdefault(row.kind, []).append(shapely.from_wkb(bytes(row.coverage)))
    ids = [i for group in layers.values() for i in group]
    rows = session.execute(FEATURES_SQL, {**box, "layers": ids}).all() if ids else []
    pairs = {}
    for kind in layers:
        mine = [r for r in rows if r.kind == kind]
        data = {"geometry": [shapely.from_wkb(bytes(r.geom)) for r in mine]}
        if kind == "village_plan":
            data["plan_code"] = [r.plan_code for r in mine]
        frame = gpd.GeoDataFrame(data, geometry="geometry", crs=SRID)
        pairs[kind] = (frame, shapely.union_all(coverage[kind]))
    return ConstraintContext.build(**pairs)
