"""Parcel files streamed into PostGIS batch by batch: every check, bounded memory, all-or-nothing.

Each batch is hygiene-checked (geometry, codes), mapped column by column, checked against the
database (codes already stored, villages loaded, the village boundary the parcel code names) and
COPYed inside the one open transaction. Problems are collected over the whole file; when there is
any, the caller's transaction is rolled back, so nothing is written and every bad record is listed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from geopandas import GeoDataFrame
from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.db.tables import ImportBatch
from geodata.fields import (
    PARCEL_FIELDS,
    apply_field_map,
    find_column,
    missing_column,
    recognise_schema,
)
from geodata.formats import unchanged_wkb
from geodata.hygiene import CODE_COLUMNS, check_layer, record_labels
from geodata.store.bulk import multipolygon_ewkb_hex
from geodata.store.code_memory import CodeMemory
from geodata.store.columns import (
    arrow_texts,
    as_strings,
    attrs_json,
    letter_meanings,
    matches,
    null_mask,
    texts,
    true_mask,
    village_codes,
)
from geodata.store.copy_binary import Payload, copy_table, encode
from geodata.store.records import BOOKKEEPING, pick_columns
from geodata.store.ring_areas import polygon_areas_m2
from geodata.store.village_check import VillageCheck
from landmarket.areas import zones_of_values
from landmarket.codes import OWNERSHIP, RIGHT_TYPE, VILLAGE_CODE_PATTERN, CodeError, parse_unit_code
from landmarket.errors import InvalidInput, RecordProblem
from landmarket.units import m2_to_mu

PARCEL_COPY = (
    "parcel_code", "unit_code", "land_use_code", "ownership", "right_type", "registered",
    "registered_area_m2", "area_m2", "area_mu", "gk_zone", "village_code", "name",
    "source_file", "batch_id", "geom", "attrs",
)  # fmt: skip
# How each column travels in binary COPY (its PostgreSQL type's binary form).
PARCEL_KINDS = {
    "parcel_code": "text", "unit_code": "text", "land_use_code": "text", "ownership": "text",
    "right_type": "text", "registered": "bool", "registered_area_m2": "numeric:2",
    "area_m2": "numeric:2", "area_mu": "numeric:4", "gk_zone": "int2", "village_code": "text",
    "name": "text", "source_file": "text", "batch_id": "int4", "geom": "geometry",
    "attrs": "jsonb",
}  # fmt: skip
_TRUE = {"true", "t", "1", "yes", "y", "是", "已登记", "1.0"}
_FALSE = {"false", "f", "0", "no", "n", "否", "未登记", "", "0.0", "none", "nan"}
_VILLAGE_RE = VILLAGE_CODE_PATTERN
# A first batch at least this large into an empty parcels table has its secondary indexes and
# its unique parcel code built once after the load instead of row by row (migrations 0016 and
# 0019: ~0.6 s, then ~0.2 s less server CPU per 100,000 parcels). Smaller imports keep them:
# readers wait for the table while they are rebuilt.
DEFER_INDEXES_FROM = 20_000
REBUILD_MEMORY = "256MB"  # maintenance_work_mem while the deferred indexes are rebuilt
# work_mem at least this while the batches are copied: the parcels' statement triggers see each
# COPY's rows as a transition table, kept in memory up to work_mem and written to a temporary
# file beyond it (a batch of 20,000 parcels holds ~8 MB: with the default 4 MB, a 1,000,000-
# parcel import wrote and read back 432 MB of temporary files).
TRANSITION_MEMORY = "64MB"
_RAISE_WORK_MEM = text(
    "SELECT current_setting('work_mem'), set_config('work_mem', CASE WHEN "
    "pg_size_bytes(current_setting('work_mem')) < pg_size_bytes(:m) THEN :m "
    "ELSE current_setting('work_mem') END, true)"
)


class RecordNames:
    """How problems name each record of a batch: its label and, if it has one, its parcel
    code ('feature 7 (500…)'), made when asked for."""

    def __init__(self, labels: Any, codes: np.ndarray) -> None:
        self.labels, self.codes = labels, codes

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i: int) -> str:
        label, code = self.labels[i], self.codes[i]
        return f"{label} ({code})" if code else label


@dataclass
class Prepared:
    """One batch checked without the database: COPY columns, rows with problems, problems."""

    first: int
    data: dict[str, np.ndarray] = field(default_factory=dict)
    bad: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    problems: list[RecordProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: bool = False  # hygiene refused the batch: only its codes are checked further
    table: pa.Table | None = None  # the COPY columns of every row (checked rows are kept)
    stored: dict[str, int] = field(default_factory=dict)  # code -> batch, of earlier imports


@dataclass(frozen=True)
class Checked:
    """A batch's rows that passed every check, encoded for COPY, and their total area (m²)."""

    payload: Payload = field(default_factory=Payload)
    area: float = 0.0


def _nothing() -> None:
    return None


_EMPTY = Checked()


class ParcelStream:
    """Accumulates checked batches of one parcel file into one import batch."""

    def __init__(
        self,
        session: Session,
        source: str,
        *,
        village: str | None,
        tolerance_m: float,
        field_map: dict[str, str] | None = None,
    ) -> None:
        self.session, self.source, self.village = session, source, village
        # The import batch the rows belong to: set before the first check(); prepare() does
        # not need it, so reading may start while the batch row is being made.
        self.batch: ImportBatch | None = None
        self.tolerance_m = tolerance_m
        self.field_map = field_map or {}
        self.problems: list[RecordProblem] = []
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.rows = 0
        self.area = 0.0
        self._seen = 0
        self._villages = VillageCheck(session, tolerance_m)
        self._deferred: bool | None = None  # secondary indexes dropped until finish()
        self._work_mem: str | None = None  # the caller's work_mem, raised for the COPYs
        self._codes = CodeMemory()  # codes of the rows copied so far

    # -- per batch -----------------------------------------------------------------------
    def feed(self, frame: GeoDataFrame) -> None:
        """Check one batch; COPY its good rows (rolled back later if any record is bad)."""
        self.commit(self.prepare(frame))

    def prepare(self, frame: GeoDataFrame, wkb: np.ndarray | None = None) -> Prepared:
        """The database-free half of a batch (safe to run in a reader thread, in file order);
        wkb: the file's WKB of each geometry as read (ReadResult.wkb), stored as it is where
        the checks leave the geometry unchanged."""
        out = Prepared(self._seen)
        self._seen += len(frame)
        frame = apply_field_map(frame, self.field_map, "parcels", self.source)
        if out.first == 0:
            self._first_batch(frame)
        try:
            checked, out.notes = check_layer(
                frame, "parcels", source=self.source, first=out.first, multi=False
            )
        except InvalidInput as exc:
            out.problems.extend(exc.problems)
            # The batch is refused; still list its other records' field problems.
            raw = frame.reset_index(drop=True)
            column = find_column([c for c in raw.columns if c != raw.geometry.name], CODE_COLUMNS)
            raw["parcel_code"] = texts(raw[column]) if column is not None else None
            data, _ = self._map(raw, out.first, out.problems)
            out.data = {"parcel_code": data["parcel_code"], "where": data["where"]}
            out.refused = True
            return out
        out.data, out.bad = self._map(checked, out.first, out.problems)
        known = None
        if wkb is not None and len(wkb) == len(checked):
            known = unchanged_wkb(frame.geometry.values, checked, wkb)
        good = ~out.bad
        areas = np.zeros(len(checked))
        zones = np.zeros(len(checked), dtype=np.int64)
        if good.any():
            shapes = out.data["geom"][good]
            areas[good] = polygon_areas_m2(shapes)
            zones[good] = zones_of_values(shapes)
        out.data.update(area_m2=areas, gk_zone=zones)
        out.table = self._table(out.data, good, known)
        return out

    def _table(
        self, cols: dict[str, np.ndarray], good: np.ndarray, known: np.ndarray | None = None
    ) -> pa.Table:
        """The COPY columns of a batch as Arrow (geometries of rows with a problem left null)."""
        n = len(good)
        text_cols = ("parcel_code", "unit_code", "land_use_code", "ownership", "right_type",
                     "village_code", "name")  # fmt: skip
        arrays = {k: as_strings(cols[k]) for k in text_cols}
        arrays["parcel_code"] = as_strings(cols.get("parcel_code_text", cols["parcel_code"]))
        areas, attrs = cols["area_m2"], cols["attrs"]
        arrays.update(
            registered=pa.array(cols["registered"], type=pa.bool_()),
            registered_area_m2=pa.array(
                cols["registered_area_m2"], type=pa.float64(), from_pandas=True
            ),
            area_m2=pa.array(areas, type=pa.float64()),
            area_mu=pa.array(np.round(m2_to_mu(areas), 4), type=pa.float64()),
            gk_zone=pa.array(cols["gk_zone"], type=pa.int64()),
            source_file=pa.repeat(pa.scalar(self.source, type=pa.string()), n),
            batch_id=pa.nulls(n, type=pa.int64()),  # the batch's id: set by check()
            geom=multipolygon_ewkb_hex(np.where(good, cols["geom"], None), hex=False, known=known),
            attrs=attrs if isinstance(attrs, pa.Array) else pa.array(attrs, type=pa.string()),
        )
        return pa.table([arrays[k] for k in PARCEL_COPY], names=list(PARCEL_COPY))

    def commit(self, prepared: Prepared) -> None:
        """The database half: codes stored, villages and their boundaries; then COPY."""
        self.lookup(prepared)
        self.write(self.check(prepared))

    def lookup(self, prepared: Prepared) -> None:
        """What a batch's checks need from the database (run while no COPY is under way): the
        first load's index deferral, codes stored by other imports, village boundaries."""
        if not prepared.data:
            return
        codes = prepared.data["parcel_code"]
        if self._work_mem is None:  # the caller's, given back by finish()
            self._work_mem = self.session.execute(
                _RAISE_WORK_MEM, {"m": TRANSITION_MEMORY}
            ).scalar()
        if self._deferred is None and not prepared.refused:
            # A large first load builds the secondary indexes after the rows (migration 0016).
            n = int(np.count_nonzero(~prepared.bad))
            self._deferred = n >= DEFER_INDEXES_FROM and bool(
                self.session.execute(text("SELECT parcels_defer_indexes()")).scalar()
            )
        # Deferred: parcels was empty when this import locked it, so only its own rows (known
        # here, checked in memory: no unique index is live) can hold a code; else ask the
        # table for the codes of earlier imports.
        if not self._deferred:
            prepared.stored = dict(
                self.session.execute(
                    text(
                        "SELECT parcel_code, batch_id FROM parcels "
                        "WHERE parcel_code = ANY(string_to_array(:c, ','))"
                    ),  # one text parameter: binding 50,000 array elements costs seconds
                    {"c": ",".join(c for c in codes if c)},
                ).all()
            )
        if not prepared.refused:
            self._villages.load(prepared.data)

    def check(self, prepared: Prepared, before_db: Callable[[], Any] = _nothing) -> Checked:
        """The checks against what lookup() fetched, without the connection (before_db is called
        before any rarer query, e.g. to wait for a COPY under way); the rows to COPY, already
        encoded (here, while the previous batch's COPY runs, not in the COPY's own thread)."""
        self.problems.extend(prepared.problems)
        self.notes.extend(prepared.notes)
        if not prepared.data:
            return _EMPTY
        keys = self._keys(prepared.data.get("parcel_code_text", prepared.data["parcel_code"]))
        taken = self._check_taken(prepared, keys)
        if prepared.refused:  # codes stored already are still worth listing
            return _EMPTY
        ok = ~prepared.bad & ~taken
        ok &= ~self._villages.check(prepared.data, self._problem, before_db)
        self._remember(keys, ok)
        table = prepared.table if ok.all() else prepared.table.filter(pa.array(ok))
        # Rows without a village code took the one their parcel code names (in the check).
        villages = prepared.data["village_code"]
        villages = villages if ok.all() else villages.filter(pa.array(ok))
        table = table.set_column(PARCEL_COPY.index("village_code"), "village_code", villages)
        batch_id = pa.array(np.full(table.num_rows, self.batch.id), type=pa.int64())
        table = table.set_column(PARCEL_COPY.index("batch_id"), "batch_id", batch_id)
        area = float(np.sum(table.column("area_m2").to_numpy())) if table.num_rows else 0.0
        return Checked(encode(table, PARCEL_KINDS), area)

    def write(self, checked: Checked) -> None:
        """COPY checked rows (safe in another thread while the caller checks the next batch)."""
        if not checked.payload.rows:
            return
        self.rows += copy_table(self.session, "parcels", checked.payload)
        self.area += checked.area

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
        code_text = pa.array(codes, type=pa.string())
        where = RecordNames(labels, codes)
        bad = np.zeros(n, dtype=bool)
        none = np.full(n, None, dtype=object)

        def col(key: str) -> np.ndarray:
            return texts(frame[picked[key]]) if key in picked else none

        def text_of(key: str) -> pa.Array:
            if key not in picked:
                return pa.nulls(n, type=pa.string())
            fast = arrow_texts(frame[picked[key]])
            return fast if fast is not None else pa.array(col(key), type=pa.string())

        land_use = text_of("land_use_code")
        for i in np.flatnonzero(null_mask(land_use)):
            column = picked["land_use_code"]
            problem(
                where[i],
                f"地类编码为空（列 {column}）/ empty land-use code (column {column})",
                "land_use_code",
            )
            bad[i] = True
        unit = text_of("unit_code")
        # A unit code of 28 ASCII characters that starts with the parcel code is well formed;
        # any other is parsed to say what is wrong (or that it is right after all).
        plain = pc.and_(
            pc.and_(pc.string_is_ascii(unit), pc.equal(pc.utf8_length(unit), 28)),
            pc.equal(pc.utf8_slice_codeunits(unit, 0, 19), code_text),
        )
        for i in np.flatnonzero(~null_mask(unit) & ~true_mask(plain)):
            try:
                unit_parcel, _, _ = parse_unit_code(unit[i].as_py())
                if unit_parcel.code != codes[i]:
                    raise CodeError("does not start with the parcel code")
                continue
            except CodeError as exc:
                problem(where[i], f"单元代码无效 / {exc}", "unit_code")
                bad[i] = True
        villages = village_codes(text_of("village_code"))
        if self.village:
            villages = pc.fill_null(villages, self.village)
        for i in np.flatnonzero(~matches(villages, _VILLAGE_RE)):
            problem(where[i], "村代码应为 12 位数字 / must be 12 digits", "village_code")
            bad[i] = True
        column = frame[picked["registered"]] if "registered" in picked else None
        if column is not None and pd.api.types.is_bool_dtype(column.dtype):
            reg = column.fillna(False).to_numpy(dtype=bool)  # booleans: no text (blank: no)
        else:
            registered = col("registered")
            lookup = {v: self._bool(v) for v in set(registered.tolist())}
            reg = np.array([lookup[v] for v in registered], dtype=object)
            for i in np.flatnonzero(pd.isna(reg)):
                problem(where[i], "应为 是/否 / not a yes/no", "registered")
                bad[i] = True
        column = frame[picked["registered_area_m2"]] if "registered_area_m2" in picked else None
        if column is not None and pd.api.types.is_float_dtype(column.dtype):
            # Numbers already: what their text would parse back to (infinities are no value).
            values = column.to_numpy(dtype=float)
            area = pd.Series(np.where(np.isfinite(values), values, np.nan)).round(2)
        else:
            area_raw = col("registered_area_m2")
            area = pd.to_numeric(pd.Series(area_raw), errors="coerce").round(2)
            for i in np.flatnonzero((area.isna() & pd.Series(area_raw).notna()).to_numpy()):
                problem(where[i], "不是数字 / not a number", "registered_area_m2")
                bad[i] = True
        skip = set(picked.values()) | BOOKKEEPING | {"parcel_code", frame.geometry.name}
        extra = [c for c in frame.columns if c not in skip]
        attrs = attrs_json(frame, extra)
        cols = {
            "parcel_code": codes,
            "parcel_code_text": code_text,
            "unit_code": unit,
            "land_use_code": land_use,
            "ownership": letter_meanings(code_text, 12, OWNERSHIP),
            "right_type": letter_meanings(code_text, 13, RIGHT_TYPE),
            "registered": reg,
            "registered_area_m2": area.to_numpy(dtype=float),  # NaN: no value
            "village_code": villages,
            "name": text_of("name"),
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

    # -- codes already taken -------------------------------------------------------------
    def _check_taken(self, prepared: Prepared, keys: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Mask of rows whose parcel code an earlier batch of this file or another import holds."""
        codes, where = prepared.data["parcel_code"], prepared.data["where"]
        ours = self._earlier(keys, len(codes))
        stored = prepared.stored
        bad = np.zeros(len(codes), dtype=bool)
        elsewhere = (
            pd.Series(codes, dtype=object).isin(stored.keys()).to_numpy() if stored else False
        )
        for i in np.flatnonzero(ours | elsewhere):
            other = self.batch.id if ours[i] else stored[codes[i]]
            msg = (
                "宗地代码与本文件先前记录重复 / duplicate of an earlier record in this file"
                if other == self.batch.id
                else f"宗地代码已在库中（批次 {other}）/ already in the database (batch {other})"
            )
            self._problem(where[i], msg, "parcel_code")
            bad[i] = True
        return bad

    @staticmethod
    def _keys(codes: np.ndarray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """(positions, codes as 19-byte strings) of the codes that can be stored (19 ASCII)."""
        text = as_strings(codes)
        fits = pc.and_(pc.equal(pc.binary_length(text), 19), pc.string_is_ascii(text))
        fits = pc.fill_null(fits, False)
        positions = np.flatnonzero(fits.to_numpy(zero_copy_only=False))
        fixed = pc.cast(text.filter(fits), pa.binary(19))
        keys = np.frombuffer(
            fixed.buffers()[1], dtype="S19", count=len(fixed), offset=19 * fixed.offset
        )
        return positions, keys.copy()

    def _earlier(self, keys: tuple[np.ndarray, np.ndarray], n: int) -> np.ndarray:
        """Mask of codes this import has already taken for rows it copies (in memory)."""
        found = np.zeros(n, dtype=bool)
        positions, codes = keys
        found[positions] = self._codes.taken(codes)
        return found

    def _remember(self, keys: tuple[np.ndarray, np.ndarray], ok: np.ndarray) -> None:
        """Add the codes of rows about to be copied (~51 MB per million: the codes and a hash
        table at most half full)."""
        positions, codes = keys
        self._codes.add(codes[ok[positions]])

    def finish(self) -> tuple[int, float]:
        """(rows, total area m²) once every batch passed; else every problem, nothing kept."""
        if self.problems:
            raise InvalidInput(self.problems, source=self.source)
        if self._work_mem is not None:
            self.session.execute(
                text("SELECT set_config('work_mem', :v, true)"), {"v": self._work_mem}
            )
        if self._deferred:
            # The rebuild's sorts spill to disk at district scale with the default 64 MB (1M
            # parcels, loaded machine: 12.0 s wall and 4.5 s CPU for the four indexes; 7.2 s and
            # 3.6 s with 256 MB, which also lets the b-trees take a second parallel worker).
            before = self.session.execute(text("SHOW maintenance_work_mem")).scalar()
            self.session.execute(text(f"SET LOCAL maintenance_work_mem = '{REBUILD_MEMORY}'"))
            self.session.execute(text("SELECT parcels_restore_indexes()"))
            self.session.execute(
                text("SELECT set_config('maintenance_work_mem', :v, true)"), {"v": before}
            )
        return self.rows, float(np.round(self.area, 2))
