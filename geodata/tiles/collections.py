"""Tile collections: what each vector tile layer reads, which fields it carries, who may filter.

Each source is a trusted SQL fragment selecting fid, the public properties, geom (EPSG:4490) and
area_mu for the aggregate, restricted to the tile's box by the table's own GiST index. Household
data (parcel names, attributes) never enters a tile: tiles are public and cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geodata.listings.tables import on_market_sql
from landmarket.listings import ListingQuery

BOX = "ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4490)"
MU_OF_GEOGRAPHY = "ST_Area(t.geom::geography) / (10000.0 / 15)"  # ellipsoidal, for aggregates


@dataclass(frozen=True)
class TileCollection:
    """One tile layer: its source, fields and zoom range."""

    name: str
    title: str
    source: str  # SELECT … FROM … WHERE <geom> && BOX [AND {filters}]
    fields: dict[str, str]  # property → TileJSON type (String, Number, Boolean)
    minzoom: int = 0
    maxzoom: int = 22
    live: bool = False  # changes often: revalidate every time (listings)
    filterable: bool = False
    description: str = ""
    cells_table: str | None = None  # stored quadtree cells to aggregate from at low zooms

    @property
    def aggregate_layer(self) -> str:
        """Name of the honest aggregate layer."""
        return f"{self.name}_aggregate_grid"

    def names(self) -> str:
        """The detail layer's columns."""
        return ", ".join(["src.fid", *(f"src.{f}" for f in self.fields)])


def _constraint(kind: str, title: str) -> TileCollection:
    return TileCollection(
        name=kind,
        title=title,
        source=(
            "SELECT t.id AS fid, t.name, t.plan_code, t.geom, "
            f"{MU_OF_GEOGRAPHY} AS area_mu "
            f"FROM constraint_features t WHERE t.kind = '{kind}' AND t.geom && {BOX}"
        ),
        fields={"name": "String", "plan_code": "String"},
        description=f"{title}: 已入库的约束图斑 / stored constraint polygons",
    )


SCREENING_CHECKS = ("market_entry", "reclamation", "ticket_landing", "approval_route")
# The verdicts of the newest finished screening job that ran the check (stored per parcel by the
# job, migration 0011): the bureau's verdict map, whatever the number of parcels.
LATEST_JOB = (
    "(SELECT s.id FROM screenings s WHERE s.state = 'done' AND s.checks ? '{check}' "
    "ORDER BY s.finished_at DESC NULLS LAST, s.id DESC LIMIT 1)"
)


def _screening(check: str) -> TileCollection:
    return TileCollection(
        name=f"screening_{check}",
        title=f"筛查结论 / Screening verdicts: {check}",
        source=(
            "SELECT abs(hashtext(t.parcel_code))::bigint AS fid, t.parcel_code, "
            f"t.{check} AS verdict, array_to_string(t.failed, ';') AS failed, "
            "array_to_string(t.needs_review, ';') AS needs_review, t.area_mu, t.job_id, t.geom "
            f"FROM screening_results t WHERE t.job_id = {LATEST_JOB.format(check=check)} "
            f"AND t.geom && {BOX}"
        ),
        fields={
            "parcel_code": "String",
            "verdict": "String",
            "failed": "String",
            "needs_review": "String",
            "area_mu": "Number",
            "job_id": "String",
        },
        live=True,  # a newly finished job replaces the map at once
        description=f"最新完成的筛查任务的结论 / verdicts of the latest finished job ({check})",
    )


LISTING_FIELDS = {
    "listing_id": "Number",
    "parcel_code": "String",
    "area_mu": "Number",
    "primary_use": "String",
    "uses": "String",
    "term_years": "Number",
    "price_per_mu": "Number",
    "reserve_price_total": "Number",
    "supply_mode": "String",
    "method": "String",
    "asset_kind": "String",
    "state": "String",
    "village_name": "String",
    "county_code": "String",
    "constraints": "String",
}

COLLECTIONS: dict[str, TileCollection] = {
    c.name: c
    for c in (
        TileCollection(
            name="listings",
            title="在市挂牌地块 / Plots on the market",
            source=(
                "SELECT l.id AS fid, l.id AS listing_id, l.parcel_code, l.area_mu::float8 AS area_mu, "
                "l.primary_use, array_to_string(l.intended_uses, ',') AS uses, l.term_years, "
                "l.price_per_mu::float8 AS price_per_mu, "
                "l.reserve_price_total::float8 AS reserve_price_total, l.supply_mode, l.method, "
                "l.asset_kind, l.state, v.name AS village_name, l.county_code, "
                "l.constraints_summary AS constraints, t.geom "
                "FROM listings l JOIN parcels t ON t.id = l.parcel_id "
                "LEFT JOIN villages v ON v.code = l.village_code "
                f"WHERE {on_market_sql('l.state')} AND t.geom && {BOX} {{filters}}"
            ),
            fields=LISTING_FIELDS,
            live=True,
            filterable=True,
            description="已发布和洽谈中的挂牌 / published listings and those under offer",
        ),
        TileCollection(
            name="parcels",
            title="宗地 / Parcels",
            source=(
                "SELECT t.id AS fid, t.parcel_code, t.land_use_code, t.area_mu::float8 AS area_mu, "
                f"t.village_code, t.geom FROM parcels t WHERE t.geom && {BOX}"
            ),
            fields={
                "parcel_code": "String",
                "land_use_code": "String",
                "area_mu": "Number",
                "village_code": "String",
            },  # fmt: skip
            minzoom=10,
            cells_table="parcel_cells",
            description="宗地公开属性(不含权利人) / public parcel attributes (no right holders)",
        ),
        TileCollection(
            name="villages",
            title="村界 / Village boundaries",
            source=(
                "SELECT t.id AS fid, t.code, t.name, t.township, t.boundary AS geom, "
                "t.area_m2 / (10000.0 / 15) AS area_mu "
                f"FROM villages t WHERE t.boundary && {BOX}"
            ),
            fields={"code": "String", "name": "String", "township": "String"},
            description="村集体经济组织界线 / village collective boundaries",
        ),
        _constraint("pbf", "永久基本农田 / Permanent basic farmland"),
        _constraint("redline", "生态保护红线 / Ecological red line"),
        _constraint("udb", "城镇开发边界 / Urban development boundary"),
        _constraint("village_plan", "村庄规划 / Village plan"),
        *(_screening(check) for check in SCREENING_CHECKS),
    )
}


def listing_filters(q: ListingQuery) -> tuple[str, dict[str, Any]]:
    """SQL AND-terms and parameters of a listing query's attribute filters (no bbox, no point)."""
    terms, params = [], {}
    ranges = [
        ("min_area_mu", "l.area_mu >= :f_min_area_mu"),
        ("max_area_mu", "l.area_mu <= :f_max_area_mu"),
        ("min_term_years", "l.term_years >= :f_min_term_years"),
        ("max_term_years", "l.term_years <= :f_max_term_years"),
        ("min_price_per_mu", "l.price_per_mu >= :f_min_price_per_mu"),
        ("max_price_per_mu", "l.price_per_mu <= :f_max_price_per_mu"),
        ("supply_mode", "l.supply_mode = :f_supply_mode"),
        ("method", "l.method = :f_method"),
        ("asset_kind", "l.asset_kind = :f_asset_kind"),
        ("district", "l.county_code = :f_district"),
        ("village_code", "l.village_code = :f_village_code"),
        ("use", ":f_use = ANY(l.intended_uses)"),
    ]
    for key, sql in ranges:
        value = getattr(q, key)
        if value is not None:
            terms.append(f"AND {sql}")
            params[f"f_{key}"] = value
    return " ".join(terms), params
