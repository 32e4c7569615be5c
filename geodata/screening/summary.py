"""The one-page HTML summary of a screen: counts by verdict and reason, areas, small SVG maps.

Self-contained: inline CSS and SVG, no script, nothing loaded from anywhere.
"""

from __future__ import annotations

from html import escape
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landmarket.eligibility import CHECKS, RULES
from landmarket.eligibility.verdict import ELIGIBLE, INELIGIBLE, NEEDS_REVIEW

VERDICT_COLOURS = {ELIGIBLE: "#2e9d48", INELIGIBLE: "#d83b2d", NEEDS_REVIEW: "#f0a30a"}
VERDICT_LABELS = {
    ELIGIBLE: "符合 / eligible",
    INELIGIBLE: "不符合 / ineligible",
    NEEDS_REVIEW: "需复核 / needs review",
}
STATUS_LABELS = {"failed": "不符合 / failed", "needs_review": "需复核 / needs review"}
MAP_WIDTH = 360
MAX_PATHS = 3000  # above this many parcels a map draws a grid of cells instead of outlines
GRID_COLUMNS = 120
CSS = """
body { font: 14px/1.5 "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 22px; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.maps { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; } figcaption { font-size: 12px; color: #444; }
svg { background: #f6f6f2; border: 1px solid #bbb; }
.swatch { display: inline-block; width: 12px; height: 10px; margin: 0 4px 0 10px;
  border: 1px solid #555; }
"""


def _table(table_id: str, head: list[str], rows: list[list[Any]]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{v:,.2f}</td>'
            if isinstance(v, float)
            else f'<td class="n">{v}</td>'
            if isinstance(v, int)
            else f"<td>{escape(str(v))}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f'<table id="{table_id}"><tr>{cells}</tr>{body}</table>'


def _check_title(name: str) -> str:
    return CHECKS[name].title if name in CHECKS else name


def render_summary(
    parcels: gpd.GeoDataFrame | None,
    report: pd.DataFrame,
    summary: dict[str, Any],
    *,
    points: np.ndarray | None = None,
    bounds: np.ndarray | None = None,
) -> str:
    """Full HTML of the summary page.

    points (a point on the surface of each report row's parcel, (n, 2)) and bounds (the
    parcels' total envelope) draw the maps of more than MAX_PATHS parcels without the
    geometries (parcels may then be None)."""
    meta_rows = [
        ["数据来源 / source", summary.get("source") or "—"],
        ["政策日期 / policy date", summary.get("on", "—")],
        ["政策版本 / policy version", summary.get("policy_version", "—")],
        ["检查项 / checks", ", ".join(summary.get("checks", []))],
        [
            "范围 / scope",
            "仅场地条件 / site conditions only"
            if summary.get("site_only")
            else "含申请条件 / with application facts",
        ],
        ["宗地数 / parcels", int(summary.get("parcels", len(report)))],
        ["总面积 (亩) / total area (mu)", float(summary.get("area_mu", 0.0))],
        ["生成时间 / generated", summary.get("generated_at", "—")],
    ]
    verdict_rows = [
        [
            _check_title(r["check"]),
            VERDICT_LABELS.get(r["verdict"], r["verdict"]),
            int(r["parcels"]),
            float(r["mu"]),
        ]
        for r in summary.get("verdicts", [])
    ]
    reason_rows = [
        [
            r["check"],
            STATUS_LABELS.get(r["status"], r["status"]),
            r["rule_id"],
            RULES[r["rule_id"]].title if r["rule_id"] in RULES else "",
            int(r["parcels"]),
        ]
        for r in summary.get("reasons", [])
    ]
    layout = _Layout(parcels, report, points, bounds)  # projected once for every map
    maps = "".join(
        f"<figure>{verdict_svg(parcels, report, name, layout)}"
        f"<figcaption>{escape(_check_title(name))}</figcaption></figure>"
        for name in summary.get("checks", [])
        if f"{name}.verdict" in report.columns
    )
    legend = "".join(
        f'<span class="swatch" style="background:{c}"></span>{escape(VERDICT_LABELS[v])}'
        for v, c in VERDICT_COLOURS.items()
    )
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        "<title>地块筛查报告 / Parcel screening report</title>"
        f"<style>{CSS}</style></head><body>"
        "<h1>地块筛查报告 / Parcel screening report</h1>"
        + _table("meta", ["项目 / item", "值 / value"], meta_rows)
        + "<h2>按结论统计 / Counts by verdict</h2>"
        + _table(
            "verdicts",
            ["检查 / check", "结论 / verdict", "宗地数 / parcels", "面积 (亩) / area (mu)"],
            verdict_rows,
        )
        + "<h2>按原因统计 / Counts by reason</h2>"
        + _table(
            "reasons",
            ["检查 / check", "状态 / status", "规则 / rule", "说明 / title", "宗地数 / parcels"],
            reason_rows,
        )
        + f'<h2>分布图 / Maps</h2><div>{legend}</div><div class="maps">{maps}</div>'
        + "</body></html>"
    )


def _projector(parcels: gpd.GeoDataFrame) -> tuple[Any, int, int]:
    """Lon/lat → SVG pixels (equirectangular, scaled by cos latitude), width and height."""
    return _projector_of(parcels.total_bounds)


def _projector_of(bounds: np.ndarray) -> tuple[Any, int, int]:
    """The projection for the total envelope (minx, miny, maxx, maxy) of the parcels."""
    minx, miny, maxx, maxy = bounds
    k = float(np.cos(np.radians((miny + maxy) / 2)))
    span_x = max((maxx - minx) * k, 1e-9)
    span_y = max(maxy - miny, 1e-9)
    scale = (MAP_WIDTH - 8) / max(span_x, span_y)
    width = int(np.ceil(span_x * scale)) + 8
    height = int(np.ceil(span_y * scale)) + 8

    def project(xy: np.ndarray) -> np.ndarray:
        out = np.empty_like(xy)
        out[:, 0] = 4 + (xy[:, 0] - minx) * k * scale
        out[:, 1] = 4 + (maxy - xy[:, 1]) * scale
        return out

    return project, width, height


class _Layout:
    """What every map of one report shares: the geometries, projection, size, grid points."""

    def __init__(
        self,
        parcels: gpd.GeoDataFrame | None,
        report: pd.DataFrame,
        points: np.ndarray | None = None,
        bounds: np.ndarray | None = None,
    ) -> None:
        self.parcels = parcels
        self.report = report
        self.bounds = bounds
        self.given = points
        if points is not None and bounds is not None and len(points) > MAX_PATHS:
            self.geoms = None
            self.n = len(points)
        else:
            self.geoms = parcels.geometry.loc[report.index].to_numpy()
            self.n = len(self.geoms)
        self._projection: tuple[Any, int, int] | None = None
        self._points: np.ndarray | None = None

    @property
    def projection(self) -> tuple[Any, int, int]:
        if self._projection is None:
            if self.geoms is None:
                self._projection = _projector_of(self.bounds)
            else:
                self._projection = _projector(self.parcels.loc[self.report.index])
        return self._projection

    @property
    def points(self) -> np.ndarray:
        """A point on the surface of each parcel, projected (what the grid cells count)."""
        if self._points is None:
            project = self.projection[0]
            if self.geoms is None:
                self._points = project(np.asarray(self.given, dtype=float))
            else:
                on_surface = shapely.point_on_surface(self.geoms)
                self._points = project(shapely.get_coordinates(on_surface))
        return self._points


def verdict_svg(
    parcels: gpd.GeoDataFrame, report: pd.DataFrame, check: str, layout: _Layout | None = None
) -> str:
    """Inline SVG of the parcels coloured by their verdict for one check."""
    verdicts = report[f"{check}.verdict"].to_numpy(dtype=object)
    layout = layout or _Layout(parcels, report)
    geoms = layout.geoms
    if layout.n == 0:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{MAP_WIDTH}" height="40"></svg>'
    project, width, height = layout.projection
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" data-check="{escape(check)}">'
    )
    if layout.n > MAX_PATHS:
        return head + _grid(layout.points, verdicts, width, height) + "</svg>"
    flat = shapely.transform(geoms, project)
    paths = []
    for geom, verdict in zip(flat, verdicts, strict=True):
        colour = VERDICT_COLOURS.get(verdict, "#999999")
        paths.append(
            f'<path class="parcel" d="{_path_data(geom)}" fill="{colour}" stroke="#333" '
            'stroke-width="0.3"/>'
        )
    return head + "".join(paths) + "</svg>"


def _path_data(geom: shapely.Geometry) -> str:
    parts = []
    for poly in shapely.get_parts(geom):
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)[:, :2]
            parts.append("M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in xy) + "Z")
    return "".join(parts)


def _grid(xy: np.ndarray, verdicts: np.ndarray, width: int, height: int) -> str:
    """Cells of a coarse grid coloured by the most frequent verdict of the parcels in them
    (xy: a projected point on the surface of each parcel)."""
    size = width / GRID_COLUMNS
    cols = np.clip((xy[:, 0] // size).astype(int), 0, GRID_COLUMNS - 1)
    rows_n = int(np.ceil(height / size))
    rows = np.clip((xy[:, 1] // size).astype(int), 0, rows_n - 1)
    codes = list(VERDICT_COLOURS)
    seen, distinct = pd.factorize(verdicts)  # -1: missing; each distinct value looked up once
    lookup = np.array([codes.index(v) if v in codes else 2 for v in distinct] + [2], dtype=int)
    code = lookup[seen]  # a missing or unknown verdict counts as needing review
    cell = rows * GRID_COLUMNS + cols
    counts = np.bincount(cell * 3 + code, minlength=rows_n * GRID_COLUMNS * 3).reshape(-1, 3)
    filled = np.flatnonzero(counts.sum(axis=1))
    colours = [VERDICT_COLOURS[code] for code in codes]
    most = np.argmax(counts[filled], axis=1).tolist()  # the first of equal counts, as per cell
    side = f"{size:.1f}"
    rects = []
    for c, m in zip(filled.tolist(), most, strict=True):
        r, k = divmod(c, GRID_COLUMNS)
        rects.append(
            f'<rect class="cell" x="{k * size:.1f}" y="{r * size:.1f}" width="{side}" '
            f'height="{side}" fill="{colours[m]}"/>'
        )
    return "".join(rects)
