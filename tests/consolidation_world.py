"""The sample village (landmarket.consolidation.sample) loaded into a PostGIS database, with users.

Plots go in as parcels (slope_deg and plot_id land in parcels.attrs), the land-use polygons as
parcels of their own, PBF / red line / UDB / village plan as constraint layers covering the
village, plus a neighbouring empty village for permission tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
from shapely import affinity
from shapely.geometry import box

from geodata.db.engine import session_scope
from geodata.db.migrate import upgrade
from geodata.store import import_frame
from geodata.users import create_user
from landmarket.areas import CGCS2000, gk_epsg
from landmarket.consolidation.sample import X0, Y0, ZONE, sample_village

VILLAGE = "500111101001"  # the code the sample's parcel codes carry
NEIGHBOUR = "500111101002"


@dataclass
class ConsolidationWorld:
    """What the database holds and the tokens of its users."""

    url: str
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        """Authorization header of a user ('public' → none)."""
        return {} if who == "public" else {"Authorization": f"Bearer {self.tokens[who]}"}


def _gk(geom) -> object:
    return gpd.GeoSeries([affinity.translate(geom, X0, Y0)], crs=gk_epsg(ZONE)).to_crs(CGCS2000)[0]


def village_frames() -> gpd.GeoDataFrame:
    """The sample village over its extent and an empty neighbour to the east."""
    rows = [
        {"code": VILLAGE, "name": "示例村", "township": "示例镇",
         "geometry": _gk(box(-100, -100, 1700, 1400))},
        {"code": NEIGHBOUR, "name": "邻村", "township": "示例镇",
         "geometry": _gk(box(1700, -100, 2700, 1400))},
    ]  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CGCS2000)


def build_consolidation_world(url: str) -> ConsolidationWorld:
    """Migrate url and load the sample village, its layers and one user per role."""
    upgrade(url)
    village = sample_village()
    import_frame(url, village_frames(), "villages", source_name="sample_villages.geojson")
    plots = village.plots.rename(columns={"land_use": "land_use_code"})
    import_frame(url, plots, "parcels", source_name="sample_plots.geojson", village=VILLAGE)
    land = village.context.parcels.frame.rename(columns={"land_use": "land_use_code"})
    feature = {"0103": "JD", "0204": "JD", "0301": "JE"}
    land["parcel_code"] = [
        f"{VILLAGE}{feature[u]}{100 + i:05d}" for i, u in enumerate(land["land_use_code"])
    ]
    import_frame(url, land, "parcels", source_name="sample_land_use.geojson", village=VILLAGE)
    for kind in ("pbf", "redline", "udb", "village_plan"):
        layer = village.context.layer(kind)
        import_frame(
            url, layer.frame, f"constraints:{kind}", source_name=f"sample_{kind}.geojson",
            coverage=layer.coverage, meta={"name": f"示例 {kind}"},
        )  # fmt: skip
    world = ConsolidationWorld(url)
    with session_scope(url) as session:
        for key, role, code in [
            ("bureau", "bureau", None),
            ("investor", "investor", None),
            ("collective", "collective", VILLAGE),
            ("neighbour", "collective", NEIGHBOUR),
        ]:
            world.tokens[key] = create_user(session, role, code, name=key)[1]
    return world
