"""Source field names: the platform's own, the survey's (三调 地类图斑) and the cadastre's (宗地).

Names match case-insensitively, first alias wins. `--map target=source` (a form field in the API)
renames any other column to a target before the aliases are tried. The survey and cadastral fields
follow the third national land survey database standard (第三次全国国土调查数据库标准, 地类图斑
layer DLTB) and the cadastral database standard (地籍数据库标准 / 不动产登记数据库标准, 宗地 layer
ZD); fields without a column of their own are kept in the record's attrs under their source name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from geopandas import GeoDataFrame

from landmarket.errors import InvalidInput, RecordProblem

PARCEL_FIELDS: dict[str, tuple[str, ...]] = {
    "parcel_code": ("parcel_code", "宗地代码", "zddm", "parcel_no", "地块编号"),
    "land_use_code": ("land_use_code", "地类编码", "dlbm", "yt", "用途"),
    "name": ("name", "宗地名称", "地块名称", "名称", "zdmc"),
    "village_code": ("village_code", "村代码", "cjdm", "zldwdm", "坐落单位代码", "qsdwdm"),
    "registered": ("registered", "是否登记", "sfdj"),
    "registered_area_m2": ("registered_area_m2", "登记面积", "djmj", "zdmj", "宗地面积"),
    "unit_code": ("unit_code", "不动产单元代码", "bdcdyh"),
}
VILLAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "code": ("code", "village_code", "村代码", "cjdm", "xzqdm", "zldwdm", "qsdwdm"),
    "name": ("name", "村名", "名称", "xzqmc", "zldwmc", "qsdwmc"),
    "township": ("township", "乡镇", "xzmc"),
}
FEATURE_FIELDS: dict[str, tuple[str, ...]] = {
    "plan_code": ("plan_code", "用地用海代码", "ydyhfldm", "ghytdm", "ghdldm"),
    "name": ("name", "名称", "mc"),
}
FIELDS = {"parcels": PARCEL_FIELDS, "villages": VILLAGE_FIELDS}
LABELS = {
    "parcel_code": "宗地代码",
    "land_use_code": "地类编码",
    "name": "名称",
    "village_code": "村代码",
    "registered": "是否登记",
    "registered_area_m2": "登记面积",
    "unit_code": "不动产单元代码",
    "code": "村代码",
    "township": "乡镇",
    "plan_code": "用地用海代码",
}
# Fields that tell which standard schema a file follows (at least three of them present).
SCHEMAS: dict[str, tuple[str, frozenset[str]]] = {
    "survey": (
        "三调地类图斑 / third national land survey land-use polygons (DLTB)",
        frozenset(
            {
                "bsm",
                "tbbh",
                "dlbm",
                "dlmc",
                "qsxz",
                "qsdwdm",
                "qsdwmc",
                "zldwdm",
                "zldwmc",
                "tbmj",
                "kcdlbm",
                "kcxs",
                "kcmj",
                "tbdlmj",
                "gdlx",
                "gdpdjb",
            }
        ),  # fmt: skip
    ),
    "cadastre": (
        "地籍宗地 / cadastral parcels (ZD)",
        frozenset(
            {
                "zddm",
                "bdcdyh",
                "zdtzm",
                "zl",
                "zdmj",
                "yt",
                "qllx",
                "qlxz",
                "qlsdfs",
                "djh",
                "mjdw",
                "syqmj",
                "zdszd",
                "zdszn",
                "zdszx",
                "zdszb",
            }
        ),  # fmt: skip
    ),
}


def layer_fields(layer: str) -> dict[str, tuple[str, ...]]:
    """The alias table of an import layer (constraint layers share one)."""
    return FIELDS.get(layer, FEATURE_FIELDS)


def find_column(columns: Iterable[object], names: Iterable[str]) -> str | None:
    """The first column matching one of names, case-insensitively."""
    lower = {str(c).strip().lower(): c for c in columns}
    for name in names:
        if name.lower() in lower:
            return lower[name.lower()]
    return None


def accepted(target: str, layer: str = "parcels") -> str:
    """The names accepted for a target field, as a message lists them."""
    names = layer_fields(layer).get(target, (target,))
    shown = [n.upper() if n.isascii() and len(n) <= 6 and "_" not in n else n for n in names]
    return "、".join(shown)


def missing_column(
    target: str, columns: Iterable[object], layer: str = "parcels", source: str | None = None
) -> RecordProblem:
    """A file-level problem naming the accepted names, the file's columns and --map."""
    cols = [str(c) for c in columns if str(c) != "geometry"]
    names = accepted(target, layer)
    label = LABELS.get(target, target)
    msg = (
        f"缺少{label}列：可用列名 {names}（大小写均可），或用 --map {target}=列名 指定；文件中的列："
        f"{'、'.join(cols) or '无'} / no {target} column: accepted names are {names} (any case), "
        f"or map one with --map {target}=COLUMN; the file has: {', '.join(cols) or 'none'}"
    )
    return RecordProblem("file", msg, target)


def parse_field_map(items: Iterable[str] | str | None) -> dict[str, str]:
    """{target: source} from 'target=source' items (CLI repeats, API: comma or newline separated)."""
    if items is None:
        return {}
    if isinstance(items, str):
        items = [i for part in items.splitlines() for i in part.split(",")]
    out: dict[str, str] = {}
    for item in items:
        item = item.strip()
        if not item:
            continue
        target, sep, source = item.partition("=")
        if not sep or not target.strip() or not source.strip():
            msg = f"应为 目标=源列 / expected target=source, got {item!r}"
            raise InvalidInput([RecordProblem("--map", msg, "field_map")])
        out[target.strip()] = source.strip()
    return out


def apply_field_map(
    frame: GeoDataFrame, mapping: Mapping[str, str], layer: str, source: str | None = None
) -> GeoDataFrame:
    """Rename mapped source columns to their targets; unknown targets or columns are refused."""
    if not mapping:
        return frame
    fields = layer_fields(layer)
    problems: list[RecordProblem] = []
    renames: dict[object, str] = {}
    for target, column in mapping.items():
        if target not in fields:
            msg = (
                f"未知目标字段 {target!r}（可用：{', '.join(fields)}）/ unknown target field "
                f"{target!r} for {layer}; targets: {', '.join(fields)}"
            )
            problems.append(RecordProblem("--map", msg, "field_map"))
            continue
        found = find_column([c for c in frame.columns if c != frame.geometry.name], [column])
        if found is None:
            cols = ", ".join(str(c) for c in frame.columns if c != frame.geometry.name)
            msg = f"文件中没有列 {column!r} / the file has no column {column!r} (it has: {cols})"
            problems.append(RecordProblem("--map", msg, "field_map"))
            continue
        renames[found] = target
    if problems:
        raise InvalidInput(problems, source=source)
    # A column already bearing a target's name gives way to the mapped one.
    clash = [c for c in frame.columns if c in renames.values() and c not in renames]
    out = frame.drop(columns=clash)
    return out.rename(columns=renames)


def recognise_schema(columns: Iterable[object]) -> str | None:
    """A note naming the standard schema the columns follow, if three or more of its fields occur."""
    names = {str(c).strip().lower() for c in columns}
    for title, fields in SCHEMAS.values():
        hits = sorted(names & fields)
        if len(hits) >= 3:
            shown = ", ".join(h.upper() for h in hits)
            return f"按字段识别为{title.split(' / ')[0]} / recognised as {title.split(' / ')[1]}: {shown}"
    return None
