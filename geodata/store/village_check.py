"""Parcel codes against village boundaries: a code names its village (its first 12 digits).

A parcel may reach at most the policy's tolerance (imports.village_boundary_tolerance, metres,
measured in the GK zone) outside the village its code names; one that does is listed with the
village it lies in. Boundaries are fetched once per import, grown by the tolerance and prepared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from geopandas import GeoSeries
from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.db.tables import SRID
from geodata.store.bulk import ewkb_column
from landmarket.areas import CGCS2000, to_gk, zones_of

Problem = Callable[[str, str, str], None]  # (record, message, field)


def _villages_named(codes: np.ndarray) -> np.ndarray:
    """The village each parcel code names (its first 12 characters); None without a code."""
    text = pa.array(codes, type=pa.string())
    named = pc.utf8_slice_codeunits(text, 0, 12)
    named = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), named)
    return named.to_numpy(zero_copy_only=False)


def _among(values: np.ndarray, members: pa.Array) -> np.ndarray:
    """Mask of values that are one of members (None never is), by Arrow's hash lookup: pandas'
    string isin tests each member in Python (0.7 s of an import's 1,000,000 parcels)."""
    found = pc.is_in(pa.array(values, type=pa.string(), from_pandas=True), value_set=members)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def _groups(values: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(value, its rows in order) for each distinct value that is not None."""
    text = pa.array(values, type=pa.string(), from_pandas=True)
    present = text.is_valid()
    rows = np.flatnonzero(present.to_numpy(zero_copy_only=False))
    encoded = pc.dictionary_encode(text.filter(present))
    groups = encoded.indices.to_numpy(zero_copy_only=False)
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(len(encoded.dictionary) + 1))
    return [
        (value, rows[order[bounds[g] : bounds[g + 1]]])
        for g, value in enumerate(encoded.dictionary.to_pylist())
    ]


class VillageCheck:
    """The loaded villages an import's parcels name, checked batch by batch."""

    def __init__(self, session: Session, tolerance_m: float) -> None:
        self.session, self.tolerance_m = session, tolerance_m
        self._boundaries: dict[str, Any] = {}  # village code -> prepared grown boundary | None
        self._any_village: bool | None = None
        self._problem: Problem = lambda *_: None

    def _load_boundaries(self, wanted: set[str]) -> None:
        new = sorted(c for c in wanted if c not in self._boundaries)
        if not new:
            return
        found = dict(
            self.session.execute(
                text("SELECT code, ST_AsBinary(boundary) FROM villages WHERE code = ANY(:c)"),
                {"c": new},
            ).all()
        )
        grown = iter(self._buffered([bytes(found[c]) for c in new if c in found]))
        for code in new:
            self._boundaries[code] = next(grown) if code in found else None

    def _buffered(self, wkbs: list[bytes]) -> list[Any]:
        """Boundaries grown by the tolerance, measured in metres in their GK zones (one
        projection per zone for all of them, not one per village), prepared."""
        if not wkbs:
            return []
        geoms = GeoSeries(shapely.from_wkb(wkbs), crs=CGCS2000)
        zones = zones_of(geoms)
        grown = np.empty(len(geoms), dtype=object)
        for zone in np.unique(zones):
            mask = zones == zone
            part = to_gk(geoms[mask], int(zone)).buffer(self.tolerance_m, quad_segs=2)
            grown[mask] = part.to_crs(CGCS2000).to_numpy()
        shapely.prepare(grown)
        return list(grown)

    def load(self, cols: dict[str, np.ndarray]) -> None:
        """Fetch the boundaries of the villages a batch names that are not loaded yet."""
        codes = pa.array(cols["parcel_code"], type=pa.string(), from_pandas=True)
        named = pc.unique(pc.utf8_slice_codeunits(codes.filter(pc.not_equal(codes, "")), 0, 12))
        villages = pc.unique(pa.array(cols["village_code"], type=pa.string(), from_pandas=True))
        wanted = {v for v in villages.to_pylist() if v} | {c for c in named.to_pylist() if c}
        self._load_boundaries(wanted)

    def check(
        self,
        cols: dict[str, np.ndarray],
        problem: Problem,
        before_db: Callable[[], Any] | None = None,
    ) -> np.ndarray:
        """Mask of rows whose village is unknown or contradicts, or that lie outside it; rows
        without a village code take the loaded village their parcel code names (in place).
        Boundaries come from load() (or are fetched here); before_db is called before the
        queries that name where a parcel outside its village lies."""
        self._problem = problem
        codes, villages, geoms, where = (
            cols["parcel_code"], cols["village_code"], cols["geom"], cols["where"]
        )  # fmt: skip
        bad = np.zeros(len(codes), dtype=bool)
        named = _villages_named(codes)
        has_village, has_named = pd.notna(villages), pd.notna(named)
        wanted = set(villages[has_village]) | set(named[has_named])
        if not wanted <= self._boundaries.keys():
            if before_db is not None:
                before_db()
            self._load_boundaries(wanted)
        loaded = pa.array(
            [code for code, boundary in self._boundaries.items() if boundary is not None],
            type=pa.string(),
        )
        for i in np.flatnonzero(has_village & ~_among(villages, loaded)):
            self._problem(
                where[i],
                f"村 {villages[i]} 未导入 / village not loaded; import villages first",
                "village_code",
            )
            bad[i] = True
        for i in np.flatnonzero(has_village & has_named & (villages != named)):
            self._problem(
                where[i],
                f"宗地代码指向村 {named[i]}，村代码却为 {villages[i]} / the parcel code names "
                f"village {named[i]} but village_code is {villages[i]}",
                "village_code",
            )
            bad[i] = True
        # A parcel without a village code belongs to the loaded village its code names.
        fill = ~has_village & has_named & _among(named, loaded)
        villages[fill] = named[fill]
        outside: list[int] = []
        for code, rows in _groups(named):
            boundary = self._boundaries.get(code)
            if boundary is None:
                outside.extend(rows.tolist())  # the named village is not loaded: where is it?
                continue
            inside = shapely.covers(boundary, geoms[rows])  # prepared first argument: fast
            outside.extend(rows[~inside].tolist())
        if outside:
            if before_db is not None:
                before_db()
            bad |= self._report_places(np.array(sorted(outside)), named, geoms, where)
        return bad

    def _report_places(self, rows, named, geoms, where) -> np.ndarray:
        """Problems for parcels outside the village their code names, naming where they lie."""
        bad = np.zeros(len(named), dtype=bool)
        if self._any_village is None:
            self._any_village = bool(
                self.session.scalar(text("SELECT EXISTS (SELECT 1 FROM villages)"))
            )
        if not self._any_village:
            return bad
        points = shapely.point_on_surface(geoms[rows])
        lies = dict(
            self.session.execute(
                text(
                    "SELECT t.i, min(v.code) FROM unnest(CAST(:i AS int[]), CAST(:w AS text[])) "
                    "AS t(i, w) JOIN villages v ON ST_Intersects(v.boundary, "
                    "ST_GeomFromEWKB(decode(t.w, 'hex'))) GROUP BY t.i"
                ),
                {"i": [int(r) for r in rows], "w": list(ewkb_column(points, SRID))},
            ).all()
        )
        tol = f"{self.tolerance_m:g}"
        for r in rows:
            code, there = named[r], lies.get(int(r))
            loaded = self._boundaries.get(code) is not None
            if not loaded and there is None:
                continue  # neither its village nor any other loaded village covers it
            place = (
                f"位于村 {there} / lies in village {there}"
                if there
                else "不在任何已导入村内 / lies in no loaded village"
            )
            self._problem(
                where[r],
                f"宗地代码指向村 {code}，但宗地超出该村界 {tol} m 以上，{place.split(' / ')[0]} / "
                f"the parcel code names village {code}, but the parcel reaches more than {tol} m "
                f"outside it and {place.split(' / ')[1]}",
                "parcel_code",
            )
            bad[r] = True
        return bad
