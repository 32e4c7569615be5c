"""CRS of OGC API Features (Part 2): CRS84 (lon, lat) and EPSG:4490 (lat, lon, its axis order)."""

from __future__ import annotations

from dataclasses import dataclass

from api.ogc.errors import OgcBadRequest

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
SUPPORTED = (CRS84, EPSG4490)
ALIASES = {
    CRS84: CRS84,
    "CRS84": CRS84,
    "OGC:CRS84": CRS84,
    "urn:ogc:def:crs:OGC:1.3:CRS84": CRS84,
    EPSG4490: EPSG4490,
    "EPSG:4490": EPSG4490,
    "urn:ogc:def:crs:EPSG::4490": EPSG4490,
    "http://www.opengis.net/def/crs/EPSG/0/4490/": EPSG4490,
}


@dataclass(frozen=True)
class Crs:
    """A supported CRS and whether its first axis is latitude."""

    uri: str

    @property
    def lat_first(self) -> bool:
        """EPSG:4490 is defined latitude first; CRS84 longitude first."""
        return self.uri == EPSG4490

    def header(self) -> str:
        """The Content-Crs header value."""
        return f"<{self.uri}>"


def parse_crs(value: str | None, param: str = "crs") -> Crs:
    """The CRS a client asked for (CRS84 by default); 400 for one we do not serve."""
    if value is None:
        return Crs(CRS84)
    uri = ALIASES.get(value.strip().strip("<>"))
    if uri is None:
        raise OgcBadRequest(
            f"不支持的坐标系 / unsupported {param} {value!r}; supported: {', '.join(SUPPORTED)}",
            param,
        )
    return Crs(uri)


def parse_bbox(value: str | None, crs: Crs) -> tuple[float, float, float, float] | None:
    """(minlon, minlat, maxlon, maxlat) from a bbox in the given CRS's axis order."""
    if value is None:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        raise OgcBadRequest(f"bbox 含非数字 / bbox has a non-number: {value!r}", "bbox") from None
    if len(numbers) == 6:  # 3D boxes: drop the heights
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        raise OgcBadRequest("bbox 须为 4 或 6 个数 / bbox takes 4 or 6 numbers", "bbox")
    a, b, c, d = numbers
    minx, miny, maxx, maxy = (b, a, d, c) if crs.lat_first else (a, b, c, d)
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise OgcBadRequest(f"bbox 越界 / bbox out of range: {value!r}", "bbox")
    return minx, miny, maxx, maxy
