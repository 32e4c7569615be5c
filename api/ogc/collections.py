"""The feature collections OGC clients read: listings, deals, parcels, three zones three lines, villages.

Each is a trusted SQL description: the table expression, the feature id, the geometry and the
properties each role may read. Household data (parcel names, attributes, source files) is only
in the personal properties, for the bureau and the parcel's own collective.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from geodata.listings.tables import on_market_sql
from geodata.services.parcels import PERSONAL_COLUMNS, PUBLIC_COLUMNS


@dataclass(frozen=True)
class Queryable:
    """A property clients may filter and sort on: its SQL expression and JSON Schema type."""

    name: str
    expr: str
    type: str  # string, number, integer, boolean, date

    def schema(self) -> dict[str, str]:
        """The JSON Schema of this property in the queryables document."""
        if self.type == "date":
            return {"title": self.name, "type": "string", "format": "date"}
        return {"title": self.name, "type": self.type}


@dataclass(frozen=True)
class OgcCollection:
    """One collection: SQL pieces and metadata."""

    id: str
    title: str
    description: str
    table: str  # FROM … (aliases allowed)
    where: str  # fixed conditions ('TRUE' for none)
    fid: str  # feature id expression (also the single-item key)
    fid_type: type
    geom: str  # geometry expression in EPSG:4490
    properties: dict[str, str]  # name → SQL expression, for everyone
    personal: dict[str, str] = field(default_factory=dict)  # bureau and own collective only
    village: str | None = None  # village code expression deciding who is "own collective"
    order: str = ""
    huge: bool = False  # count with the planner's estimate beyond a cap, extent from statistics
    estimated_extent: tuple[str, str] = ("", "")  # (table, geometry column) for ST_EstimatedExtent
    types: dict[str, str] = field(default_factory=dict)  # queryable property → type
    tiles: str | None = None  # the vector tile collection drawing the same features

    @property
    def queryables(self) -> dict[str, Queryable]:
        """Public properties clients may filter and sort on, with the column behind each."""
        return {
            name: Queryable(name, self.properties[name].removesuffix("::float8"), kind)
            for name, kind in self.types.items()
        }


_CONSTRAINT_TYPES = {
    "name": "string",
    "plan_code": "string",
    "layer": "string",
    "layer_version": "string",
    "effective_date": "date",
}


def _constraint(kind: str, title: str) -> OgcCollection:
    return OgcCollection(
        id=kind,
        title=title,
        description=f"{title} — 已入库图斑(各版本) / stored polygons (all versions)",
        table="constraint_features f JOIN constraint_layers cl ON cl.id = f.layer_id",
        where=f"f.kind = '{kind}'",
        fid="f.id",
        fid_type=int,
        geom="f.geom",
        properties={
            "name": "f.name",
            "plan_code": "f.plan_code",
            "layer": "cl.name",
            "layer_version": "cl.version",
            "effective_date": "cl.effective_date::text",
        },
        order="f.id",
        types=_CONSTRAINT_TYPES,
        tiles=kind,
    )


_PARCEL_EXPR = {c: f"p.{c}" for c in PUBLIC_COLUMNS} | {
    "area_m2": "p.area_m2::float8",
    "area_mu": "p.area_mu::float8",
    "registered_area_m2": "p.registered_area_m2::float8",
    "village_name": "v.name",
}
_PARCEL_TYPES = {
    "parcel_code": "string",
    "unit_code": "string",
    "land_use_code": "string",
    "ownership": "string",
    "right_type": "string",
    "registered": "boolean",
    "registered_area_m2": "number",
    "area_m2": "number",
    "area_mu": "number",
    "gk_zone": "integer",
    "village_code": "string",
    "village_name": "string",
}

COLLECTIONS: dict[str, OgcCollection] = {
    c.id: c
    for c in (
        OgcCollection(
            id="listings",
            title="在市挂牌 / Listings on the market",
            description="村集体挂牌的集体经营性建设用地和闲置农房(已发布、洽谈中) / "
            "published collective land and idle farmhouses on offer",
            table="listings l JOIN parcels p ON p.id = l.parcel_id "
            "LEFT JOIN villages v ON v.code = l.village_code",
            where=on_market_sql("l.state"),
            fid="l.id",
            fid_type=int,
            geom="p.geom",
            properties={
                "parcel_code": "l.parcel_code",
                "state": "l.state",
                "asset_kind": "l.asset_kind",
                "method": "l.method",
                "supply_mode": "l.supply_mode",
                "intended_uses": "array_to_string(l.intended_uses, ',')",
                "term_years": "l.term_years",
                "area_mu": "l.area_mu::float8",
                "area_m2": "l.area_m2::float8",
                "reserve_price_total": "l.reserve_price_total::float8",
                "price_per_mu": "l.price_per_mu::float8",
                "village_code": "l.village_code",
                "village_name": "v.name",
                "county_code": "l.county_code",
                "constraints": "l.constraints_summary",
                "published_at": "l.published_at::text",
            },
            order="l.id",
            types={
                "parcel_code": "string",
                "state": "string",
                "asset_kind": "string",
                "method": "string",
                "supply_mode": "string",
                "term_years": "integer",
                "area_mu": "number",
                "area_m2": "number",
                "reserve_price_total": "number",
                "price_per_mu": "number",
                "village_code": "string",
                "village_name": "string",
                "county_code": "string",
            },
            tiles="listings",
        ),
        OgcCollection(
            id="parcels",
            title="宗地 / Parcels",
            description="宗地; 权利人等个人信息仅向区县局和本村集体提供 / parcels; personal "
            "attributes only for the bureau and the parcel's own collective",
            table="parcels p LEFT JOIN villages v ON v.code = p.village_code",
            where="TRUE",
            fid="p.parcel_code",
            fid_type=str,
            geom="p.geom",
            properties=_PARCEL_EXPR,
            personal={c: f"p.{c}" for c in PERSONAL_COLUMNS},
            village="p.village_code",
            order="p.parcel_code",
            huge=True,
            estimated_extent=("parcels", "geom"),
            types=_PARCEL_TYPES,
            tiles="parcels",
        ),
        OgcCollection(
            id="deals",
            title="成交公示 / Concluded deals",
            description="集体经营性建设用地成交价格(无个人信息) / prices of concluded trades of "
            "collective operational land (no personal data)",
            table="deals d JOIN parcels p ON p.parcel_code = d.parcel_code",
            where="TRUE",
            fid="d.id",
            fid_type=int,
            geom="p.geom",
            properties={
                "deal_no": "d.deal_no",
                "concluded_on": "d.concluded_on::text",
                "county_code": "d.county_code",
                "parcel_code": "d.parcel_code",
                "use": "d.use",
                "trade_method": "d.trade_method",
                "right_method": "d.right_method",
                "term_years": "d.term_years",
                "area_m2": "d.area_m2::float8",
                "price_per_mu": "d.price_per_mu::float8",
                "price_total": "d.price_total::float8",
            },
            order="d.id",
            types={
                "deal_no": "string",
                "concluded_on": "date",
                "county_code": "string",
                "parcel_code": "string",
                "use": "string",
                "trade_method": "string",
                "right_method": "string",
                "term_years": "integer",
                "area_m2": "number",
                "price_per_mu": "number",
            },
        ),
        _constraint("pbf", "永久基本农田 / Permanent basic farmland"),
        _constraint("redline", "生态保护红线 / Ecological red line"),
        _constraint("udb", "城镇开发边界 / Urban development boundary"),
        _constraint("village_plan", "村庄规划 / Village plan"),
        OgcCollection(
            id="villages",
            title="村界 / Village boundaries",
            description="村集体经济组织界线 / boundaries of village collectives",
            table="villages v",
            where="TRUE",
            fid="v.code",
            fid_type=str,
            geom="v.boundary",
            properties={
                "code": "v.code",
                "name": "v.name",
                "township": "v.township",
                "county_code": "v.county_code",
                "area_m2": "v.area_m2::float8",
            },
            order="v.code",
            types={
                "code": "string",
                "name": "string",
                "township": "string",
                "county_code": "string",
                "area_m2": "number",
            },
            tiles="villages",
        ),
    )
}
