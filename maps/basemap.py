"""Configurable basemap: none (default), OpenStreetMap, Tianditu with a token, a local XYZ URL."""

from __future__ import annotations

from dataclasses import dataclass

import folium

from landmarket.errors import InvalidInput, RecordProblem

OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
# Tianditu (天地图) web-mercator WMTS in CGCS2000, which matches our EPSG:4490 data without the
# GCJ-02 offset of commercial Chinese basemaps. vec = vector map, cva = its Chinese labels.
TIANDITU_URL = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={token}"
)
TIANDITU_ATTRIBUTION = "&copy; 天地图 / Tianditu"
NO_BASEMAP_BACKGROUND = "#f4f1ea"


@dataclass(frozen=True)
class TileSource:
    """One XYZ tile layer."""

    name: str
    url: str
    attribution: str
    max_zoom: int = 19
    subdomains: str = "abc"
    overlay: bool = False


def tile_sources(basemap: str, tianditu_token: str | None = None) -> list[TileSource]:
    """Tile layers for a basemap setting; [] for 'none'. Raises InvalidInput for a bad setting."""
    value = (basemap or "none").strip()
    key = value.lower()
    if key == "none":
        return []
    if key == "osm":
        return [TileSource("OpenStreetMap", OSM_URL, OSM_ATTRIBUTION)]
    if key == "tianditu":
        if not tianditu_token:
            raise _bad(value, "天地图底图需要密钥 / the tianditu basemap needs tianditu_token")
        return [
            TileSource(
                "天地图 / Tianditu",
                TIANDITU_URL.replace("{layer}", layer).replace("{token}", tianditu_token),
                TIANDITU_ATTRIBUTION,
                max_zoom=18,
                subdomains="01234567",
                overlay=layer == "cva",
            )
            for layer in ("vec", "cva")
        ]
    if all(part in value for part in ("{z}", "{x}", "{y}")):
        return [TileSource("本地瓦片 / Local tiles", value, "本地瓦片 / local tiles")]
    raise _bad(
        value,
        "底图须为 none、osm、tianditu 或含 {z}/{x}/{y} 的瓦片地址 / "
        "basemap must be none, osm, tianditu or an XYZ URL with {z}/{x}/{y}",
    )


def _bad(value: str, problem: str) -> InvalidInput:
    return InvalidInput(
        [RecordProblem(record=f"setting basemap={value!r}", problem=problem, field="basemap")],
        source="LANDMARKET_BASEMAP",
    )


def add_basemap(fmap: folium.Map, basemap: str, tianditu_token: str | None = None) -> None:
    """Add the configured tile layers to a map; with none, give the map a plain paper background."""
    sources = tile_sources(basemap, tianditu_token)
    if not sources:
        fmap.get_root().header.add_child(
            folium.Element(
                f"<style>.folium-map.leaflet-container {{ background: {NO_BASEMAP_BACKGROUND}; }}"
                "</style>"
            ),
            name="no_basemap_background",
        )
        return
    for src in sources:
        folium.TileLayer(
            tiles=src.url,
            attr=src.attribution,
            name=src.name,
            max_zoom=src.max_zoom,
            subdomains=src.subdomains,
            overlay=src.overlay,
            control=not src.overlay,
        ).add_to(fmap)


def tile_hosts(basemap: str, tianditu_token: str | None = None) -> list[str]:
    """URL templates the page may fetch tiles from (what an offline check should allow)."""
    return [src.url for src in tile_sources(basemap, tianditu_token)]
