"""Parcel files streamed into PostGIS batch by batch: every check, bounded memory, all-or-nothing.

Each batch is hygiene-checked (geometry, codes), mapped column by column, checked against the
database (codes already stored, villages loaded, the village boundary the parcel code names) and
COPYed inside the one open transaction. Problems are collected over the whole file; when there is
any, the caller's transaction is rolled back, so nothing is written and every bad record is listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
from geopandas import GeoDataFrame, GeoSeries
from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.db.tables import SRID, ImportBatch
from geodata.fields import (
    PARCEL_FIELDS,
    apply_field_map,
    find_column,
    missing_column,
    recognise_schema,
)
from geodata.hygiene import CODE_COLUMNS, check_layer, record_labels
from geodata.store.bulk import copy_table, ewkb_column
from geodata.store.records import BOOKKEEPING, pick_columns, village_of
from geodata.store.village_check import VillageCheck
from landmarket.areas import areas_m2, zones_of
from landmarket.codes import OWNERSHIP, RIGHT_TYPE, VILLAGE_CODE_PATTERN, CodeError, parse_unit_code
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.units import m2_to_mu

PARCEL_COPY = (
    "parcel_code", "unit_code", "land_use_code", "ownership", "right_type", "registered",
    "registered_area_m2", "area_m2", "area_mu", "gk_zone", "village_code", "name",
    "source_file", "batch_id", "geom", "attrs",
)  # fmt: skip
_TRUE = {"true", "t", "1", "yes", "y", "是", "已登记", "1.0"}
_FALSE = {"false", "f", "0", "no", "n", "否", "未登记", "", "0.0", "none", "nan"}
_VILLAGE_RE = VILLAGE_CODE_PATTERN
# A first batch at least this large into an empty parcels table has its secondary indexes built
# once after the load instead of row by row (migration 0016: ~0.6 s less server CPU per 100,000
# parcels). Smaller imports keep them: readers wait for the table while they are rebuilt.
DEFER_INDEXES_FROM = 20_000
# A JSON member whose value is null: after a comma, or first in its object (quotes inside strings
# are escaped, so these only match between members). Keys are matched unrolled and possessive
# ([^"\\]*+ runs between escapes, no backtracking) and the first member from its literal "{" (a
# look-behind is tried at every position): the same matches as (?:[^"\\]|\\.)*, ~25x faster.
# Members after a comma go first, so a null first member followed by null members leaves no
# null behind.
_NULL_MEMBER = re.compile(r',"[^"\\]*+(?:\\.[^"\\]*+)*+":null(?=[,}])')
_FIRST_NULL_MEMBER = re.compile(r'\{"[^"\\]*+(?:\\.[^"\\]*+)*+":null(?:,|(?=\}))')
_JSON_PATTERNS = 8  # more patterns of missing members than this: one pass and the patterns above


def _texts(series: pd.Series) -> np.ndarray:
    """Cells as stripped text (integral floats without '.0'); None for blanks and NaN."""
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype=float)
        whole = np.isfinite(values) & (values == np.round(values))
        text = series.astype(object).astype(str)
        text[whole] = values[whole].astype(np.int64).astype(str)
        text[~np.isfinite(values)] = None
        return text.to_numpy(dtype=object)
    missing = series.isna().to_numpy()
    text = series.astype(str).str.strip().to_numpy(dtype=object)
    text[missing | (text == "")] = None
    return text


def _json_lines(part: pd.DataFrame) -> str:
    """Each row of part as a JSON object, one a line (pandas' C writer)."""
    return part.to_json(
        orient="records", lines=True, force_ascii=False, date_format="iso", default_handler=str
    )


@dataclass
class Prepared:
    """One batch checked without the database: COPY columns, rows with problems, problems."""

    first: int
    data: dict[str, np.ndarray] = field(default_factory=dict)
    bad: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    problems: list[RecordProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: bool = False  # hygiene refused the batch: only its codes are checked further


class ParcelStream:
    """Accumulates checked batches of one parcel file into one import batch."""

    def __init__(
        self,
        session: Session,
        batch: ImportBatch,
        *,
        village: str | None,
        tolerance_m: float,
        field_map: dict[str, str] | None = None,
    ) -> None:
        self.session, self.batch, self.village = session, batch, village
        self.tolerance_m = tolerance_m
        self.field_map = field_map or {}
        self.source = batch.source_name
        self.problems: list[RecordProblem] = []
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.rows = 0
        self.area = 0.0
        self._seen = 0
        self._villages = VillageCheck(session, tolerance_m)
        self._deferred: bool | None = None  # secondary indexes dropped until finish()

    # -- per batch -----------------------------------------------------------------------
    def feed(self, frame: GeoDataFrame) -> None:
        """Check one batch; COPY its good rows (rolled back later if any record is bad)."""
        self.commit(self.prepare(frame))

    def prepare(self, frame: GeoDataFrame) -> Prepared:
        """The database-free half of a batch (safe to run in a reader thread, in file order)."""
        out = Prepared(self._seen)
        self._seen += len(frame)
        frame = apply_field_map(frame, self.field_map, "parcels", self.source)
        if out.first == 0:
            self._first_batch(frame)
        try:
            checked, out.notes = check_layer(frame, "parcels", source=self.source, first=out.first)
        except InvalidInput as exc:
            out.problems.extend(exc.problems)
            # The batch is refused; still list its other records' field problems.
            raw = frame.reset_index(drop=True)
            column = find_column([c for c in raw.columns if c != raw.geometry.name], CODE_COLUMNS)
            raw["parcel_code"] = _texts(raw[column]) if column is not None else None
            data, _ = self._map(raw, out.first, out.problems)
            out.data = {"parcel_code": data["parcel_code"], "where": data["where"]}
            out.refused = True
            return out
        out.data, out.bad = self._map(checked, out.first, out.problems)
        good = ~out.bad
        geoms = GeoSeries(out.data["geom"][good], crs=SRID)
        areas = np.zeros(len(checked))
        zones = np.zeros(len(checked), dtype=np.int64)
        if good.any():
            areas[good] = areas_m2(geoms)
            zones[good] = zones_of(geoms)
        out.data.update(
            area_m2=areas,
            area_mu=np.round(m2_to_mu(areas), 4),
            gk_zone=zones,
            ewkb=np.where(good, ewkb_column(np.where(good, out.data["geom"], None)), None),
            attrs_json=out.data["attrs"],
        )
        return out

    def commit(self, prepared: Prepared) -> None:
        """The database half: codes stored, villages and their boundaries; then COPY."""
        self.problems.extend(prepared.problems)
        self.notes.extend(prepared.notes)
        if not prepared.data:
            return
        if prepared.refused:  # codes stored already are still worth listing
            self._check_taken(prepared.data)
            return
        ok = ~prepared.bad
        ok &= ~self._check_database(prepared.data, prepared.first)
        if ok.any():
            self._copy({k: v[ok] for k, v in prepared.data.items()})

    def _first_batch(self, frame: GeoDataFrame) -> None:
        columns = [c for c in frame.columns if c != frame.geometry.name]
        note = recognise_schema(columns)
        if note:
            self.warnings.append(note)
        missing = [
            missing_column(target, columns)
            for target in ("parcel_code", "land_use_code")
            if find_column(columns, PARCEL_FIELDS[target]) is None
        ]
        if missing:  # every record would fail: say it once, for the file
            raise InvalidInput(missing, source=self.source)

    def _problem(self, where: str, msg: str, field: str) -> None:
        self.problems.append(RecordProblem(where, msg, field))

    def _map(
        self, frame: GeoDataFrame, first: int, problems: list[RecordProblem]
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Column arrays for COPY and a mask of rows with a problem."""

        def problem(where: str, msg: str, field: str) -> None:
            problems.append(RecordProblem(where, msg, field))

        n = len(frame)
        labels = record_labels(frame, first)
        picked = pick_columns(frame, PARCEL_FIELDS)
        codes = frame["parcel_code"].to_numpy(dtype=object)
        where = np.array(
            [f"{lab} ({c})" if c else lab for lab, c in zip(labels, codes, strict=True)]
        )
        bad = np.zeros(n, dtype=bool)
        none = np.full(n, None, dtype=object)

        def col(key: str) -> np.ndarray:
            return _texts(frame[picked[key]]) if key in picked else none

        land_use = col("land_use_code")
        for i in np.flatnonzero(pd.isna(land_use)):
            column = picked["land_use_code"]
            problem(
                where[i],
                f"地类编码为空（列 {column}）/ empty land-use code (column {column})",
                "land_use_code",
            )
            bad[i] = True
        unit = col("unit_code")
        has_unit = ~pd.isna(unit)
        prefix_ok = np.array([u[:19] == c if u else True for u, c in zip(unit, codes, strict=True)])
        for i in np.flatnonzero(has_unit & ~(prefix_ok & (pd.Series(unit).str.len() == 28))):
            try:
                unit_parcel, _, _ = parse_unit_code(unit[i])
                if unit_parcel.code != codes[i]:
                    raise CodeError("does not start with the parcel code")
                continue
            except CodeError as exc:
                problem(where[i], f"单元代码无效 / {exc}", "unit_code")
                bad[i] = True
        villages = col("village_code")
        villages = np.array([village_of(v) for v in villages], dtype=object)
        if self.village:
            villages[pd.isna(villages)] = self.village
        vs = pd.Series(villages, dtype=object)
        wrong = vs.notna() & ~vs.fillna("").str.match(_VILLAGE_RE)
        for i in np.flatnonzero(wrong.to_numpy()):
            problem(where[i], "村代码应为 12 位数字 / must be 12 digits", "village_code")
            bad[i] = True
        registered = col("registered")
        lookup = {v: self._bool(v) for v in set(registered.tolist())}
        reg = np.array([lookup[v] for v in registered], dtype=object)
        for i in np.flatnonzero(pd.isna(reg)):
            problem(where[i], "应为 是/否 / not a yes/no", "registered")
            bad[i] = True
        area_raw = col("registered_area_m2")
        area = pd.to_numeric(pd.Series(area_raw), errors="coerce").round(2)
        for i in np.flatnonzero((area.isna() & pd.Series(area_raw).notna()).to_numpy()):
            problem(where[i], "不是数字 / not a number", "registered_area_m2")
            bad[i] = True
        skip = set(picked.values()) | BOOKKEEPING | {"parcel_code", frame.geometry.name}
        extra = [c for c in frame.columns if c not in skip]
        attrs = self._attrs(frame, extra)
        cols = {
            "parcel_code": codes,
            "unit_code": unit,
            "land_use_code": land_use,
            "ownership": np.array(
                [OWNERSHIP.get(c[12]) if c and len(c) > 13 else None for c in codes]
            ),
            "right_type": np.array(
                [RIGHT_TYPE.get(c[13]) if c and len(c) > 13 else None for c in codes]
            ),
            "registered": reg,
            "registered_area_m2": area.astype(object).where(area.notna(), None).to_numpy(),
            "village_code": villages,
            "name": col("name"),
            "geom": frame.geometry.to_numpy(dtype=object),
            "attrs": attrs,
            "where": where,
        }
        return cols, bad

    @staticmethod
    def _bool(value: str | None) -> bool | None:
        if value is None:
            return False
        low = value.lower()
        return True if low in _TRUE else False if low in _FALSE else None

    @staticmethod
    def _attrs(frame: GeoDataFrame, extra: list) -> np.ndarray:
        """Each row's other columns as JSON text (pandas' C writer), null members left out."""
        if not extra:
            return np.full(len(frame), "{}", dtype=object)
        part = pd.DataFrame(frame[extra]).rename(columns=str)
        for c in part.columns:  # blank text is no value, as in the row-by-row mapping
            if part[c].dtype == object:
                part[c] = part[c].map(lambda v: (v.strip() or None) if isinstance(v, str) else v)
        # Rows that leave the same members out share one JSON pass over just their members (no
        # null to strip afterwards: ~2x faster on survey files, where few such patterns occur).
        present = part.notna().to_numpy()
        keys = present @ np.left_shift(1, np.arange(present.shape[1], dtype=np.int64) % 62)
        patterns = np.unique(keys)
        if present.shape[1] > 62 or len(patterns) > _JSON_PATTERNS:
            text = _FIRST_NULL_MEMBER.sub("{", _NULL_MEMBER.sub("", _json_lines(part)))
            return np.array(text.splitlines(), dtype=object)
        out = np.full(len(part), "{}", dtype=object)
        for key in patterns:
            rows = np.flatnonzero(keys == key)
            members = part.columns[present[rows[0]]]
            if len(members):
                text = _json_lines(part.iloc[rows][members])
                if ":null" in text:  # a present value written as null (±inf)
                    text = _FIRST_NULL_MEMBER.sub("{", _NULL_MEMBER.sub("", text))
                out[rows] = text.splitlines()
        return out

    # -- against the database ------------------------------------------------------------
    def _check_database(self, cols: dict[str, np.ndarray], first: int) -> np.ndarray:
        """Mask of rows whose code is taken, whose village is unknown or whose place disagrees."""
        return self._check_taken(cols) | self._villages.check(cols, self._problem)

    def _check_taken(self, cols: dict[str, np.ndarray]) -> np.ndarray:
        """Mask of rows whose parcel code is stored already (earlier batches of this file too)."""
        codes, where = cols["parcel_code"], cols["where"]
        bad = np.zeros(len(codes), dtype=bool)
        taken = dict(
            self.session.execute(
                text(
                    "SELECT parcel_code, batch_id FROM parcels "
                    "WHERE parcel_code = ANY(string_to_array(:c, ','))"
                ),  # one text parameter: binding 50,000 array elements costs seconds
                {"c": ",".join(c for c in codes if c)},
            ).all()
        )
        for i in np.flatnonzero([c in taken for c in codes]):
            other = taken[codes[i]]
            msg = (
                "宗地代码与本文件先前记录重复 / duplicate of an earlier record in this file"
                if other == self.batch.id
                else f"宗地代码已在库中（批次 {other}）/ already in the database (batch {other})"
            )
            self._problem(where[i], msg, "parcel_code")
            bad[i] = True
        return bad

    # -- writing -------------------------------------------------------------------------
    def _copy(self, cols: dict[str, np.ndarray]) -> None:
        n = len(cols["parcel_code"])
        if self._deferred is None:  # the first COPY: a large first load builds indexes after
            self._deferred = n >= DEFER_INDEXES_FROM and bool(
                self.session.execute(text("SELECT parcels_defer_indexes()")).scalar()
            )
        text_cols = ("parcel_code", "unit_code", "land_use_code", "ownership", "right_type",
                     "village_code", "name", "source_file")  # fmt: skip
        values = {
            **{k: cols[k] for k in text_cols if k in cols},
            "source_file": np.full(n, self.source, dtype=object),
        }
        arrays = {k: pa.array(values[k], type=pa.string()) for k in text_cols}
        arrays.update(
            registered=pa.array(cols["registered"], type=pa.bool_()),
            registered_area_m2=pa.array(cols["registered_area_m2"], type=pa.float64()),
            area_m2=pa.array(cols["area_m2"], type=pa.float64()),
            area_mu=pa.array(cols["area_mu"], type=pa.float64()),
            gk_zone=pa.array(cols["gk_zone"], type=pa.int64()),
            batch_id=pa.array(np.full(n, self.batch.id), type=pa.int64()),
            geom=pa.array(cols["ewkb"], type=pa.string()),
            attrs=pa.array(cols["attrs_json"], type=pa.string()),
        )
        self.rows += copy_table(
            self.session,
            "parcels",
            pa.table([arrays[k] for k in PARCEL_COPY], names=list(PARCEL_COPY)),
        )
        self.area += float(np.sum(cols["area_m2"]))

    def finish(self) -> tuple[int, float]:
        """(rows, total area m²) once every batch passed; else every problem, nothing kept."""
        if self.problems:
            raise InvalidInput(self.problems, source=self.source)
        if self._deferred:
            self.session.execute(text("SELECT parcels_restore_indexes()"))
        return self.rows, float(np.round(self.area, 2))
