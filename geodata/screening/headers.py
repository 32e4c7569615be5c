"""The screening CSV as people download it: UTF-8 with BOM and Chinese headers (English on request).

The report file on disk keeps the column ids (parcel_code, reclamation.verdict, rule ids, …):
the runner streams it chunk by chunk and the GeoPackage beside it carries the same ids for GIS
and scripts. A download swaps only the header row — through the exports' own `table_bytes` and
`headers_in`, so BOM and quoting are those of every other export — and streams the rows after it
unchanged, so a district of a million rows is never held in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

from geodata.exports import headers_in, table_bytes
from geodata.screening.jobs import report_file
from geodata.screening.reports import REPORT_FILES
from geodata.screening.tables import ScreeningJob
from geodata.settings import Settings
from landmarket.eligibility import CHECKS
from landmarket.policy import Policy, policy_from_settings
from landmarket.rules import RULES

BLOCK = 1 << 20  # bytes read and sent at a time
# column → (Chinese, English) for the columns every screening has
FIXED_HEADERS: dict[str, tuple[str, str]] = {
    "parcel_code": ("宗地代码", "Parcel code"),
    "area_m2": ("面积(平方米)", "Area (m²)"),
    "area_mu": ("面积(亩)", "Area (mu)"),
    "area_ha": ("面积(公顷)", "Area (ha)"),
    "policy_version": ("政策版本", "Policy version"),
}
# "<check>.<name>" → header after the check's name, for the columns that are not rules
CHECK_COLUMNS: dict[str, tuple[str, str]] = {
    "verdict": ("结论", "verdict"),
    "failed": ("未通过的规则", "rules failed"),
    "needs_review": ("需复核的规则", "rules needing review"),
    "site_verdict": ("场地条件结论", "site-conditions verdict"),
    # market entry
    "max_term_years": ("最高出让年限(年)", "maximum term (years)"),
    "plan_code": ("村庄规划用途代码", "village plan use code"),
    # reclamation
    "reclaimable_m2": ("可复垦面积(平方米)", "reclaimable area (m²)"),
    "reclaimable_mu": ("可复垦面积(亩)", "reclaimable area (mu)"),
    "counted_m2": ("计入指标面积(平方米)", "area counted (m²)"),
    "collective_only_m2": ("超标准部分面积(仅归集体)(平方米)", "area above the standard, collective only (m²)"),
    "steep_m2": ("陡坡面积(平方米)", "steep area (m²)"),
    "udb_overlap_m2": ("与城镇开发边界重叠面积(平方米)", "overlap with the urban development boundary (m²)"),
    "slope_mean": ("平均坡度(度)", "mean slope (°)"),
    "slope_max": ("最大坡度(度)", "maximum slope (°)"),
    "slope_share_above": ("超过坡度上限的比例", "share above the slope limit"),
    "slope_grade": ("坡度分级", "slope grade"),
    "dem_cells": ("高程模型像元数", "DEM cells"),
    "slope_method": ("坡度计算方法", "slope method"),
    # ticket landing
    "farmland_m2": ("占用农用地面积(平方米)", "farmland taken (m²)"),
    "ticket_offered_m2": ("使用地票面积(平方米)", "ticket area offered (m²)"),
    "ticket_shortfall_m2": ("地票缺口(平方米)", "ticket shortfall (m²)"),
    "two_fees_apply": ("须缴两费", "two fees apply"),
    "paid_use_fee_yuan": ("新增建设用地土地有偿使用费(元)", "paid-use fee for new construction land (yuan)"),
    "reclamation_fee_yuan": ("耕地开垦费(元)", "farmland reclamation fee (yuan)"),
    # approval route
    "conversion_authority": ("农用地转用审批机关", "conversion approved by"),
    "expropriation_authority": ("土地征收审批机关", "expropriation approved by"),
    "authority": ("审批机关", "approved by"),
    "expropriation": ("涉及征收", "expropriation"),
    "pbf_fail": ("涉及永久基本农田", "permanent basic farmland involved"),
    "arable_over": ("耕地超过限额", "arable land above the limit"),
    "other_over": ("其他农用地超过限额", "other farmland above the limit"),
    "project_level": ("项目级别", "project level"),
    "parallel_path": ("并联审批", "parallel approval"),
    "days_saved_min": ("节省天数(下限)", "days saved (minimum)"),
    "days_saved_max": ("节省天数(上限)", "days saved (maximum)"),
    "pbf_overlap_m2": ("永久基本农田面积(平方米)", "permanent basic farmland (m²)"),
    "arable_m2": ("耕地面积(平方米)", "arable land (m²)"),
    "other_m2": ("其他农用地面积(平方米)", "other farmland (m²)"),
    "uncovered_m2": ("无地类数据面积(平方米)", "area without land-use data (m²)"),
    "max_plot_m2": ("最大地块面积(平方米)", "largest plot (m²)"),
}  # fmt: skip


def _halves(text: str) -> tuple[str, str]:
    """'中文 / English' → ('中文', 'English'); a text without the pair twice."""
    zh, sep, en = text.partition(" / ")
    return (zh, en) if sep else (text, text)


def column_header(column: str, policy: Policy | None = None) -> tuple[str, str] | None:
    """(Chinese, English) header of one report column; None for a column nobody has named."""
    if column in FIXED_HEADERS:
        return FIXED_HEADERS[column]
    check_id, _dot, name = column.partition(".")
    rule = RULES.get(column)
    if rule is not None:  # a rule's column holds its measured value
        zh, en = _halves(rule.title_for(policy))
        check = CHECKS.get(check_id) or next(
            (c for c in CHECKS.values() if column in {r.id for r in c.rules}), None
        )
        if check is None:
            return f"{zh}(测值)", f"{en} (value)"
        czh, cen = _halves(check.title)
        return f"{czh}：{zh}(测值)", f"{cen}: {en} (value)"
    if check_id in CHECKS and name in CHECK_COLUMNS:
        czh, cen = _halves(CHECKS[check_id].title)
        zh, en = CHECK_COLUMNS[name]
        return f"{czh}：{zh}", f"{cen}: {en}"
    return None


def screening_headers(
    columns: Iterable[str], policy: Policy | None = None
) -> dict[str, tuple[str, str]]:
    """column → (Chinese, English) for a report's columns; an unnamed column keeps its id."""
    return {c: column_header(c, policy) or (c, c) for c in columns}


def csv_download(path: Path, lang: str, policy: Policy | None) -> Iterator[bytes]:
    """The report CSV with BOM and headers in the language asked ('en…', else Chinese); rule
    titles rendered from the policy the screening ran under."""
    with path.open("rb") as f:
        first = f.readline()
        columns = next(csv.reader([first.decode("utf-8-sig")]))
        headers = headers_in(screening_headers(columns, policy), lang)
        yield table_bytes(pd.DataFrame(columns=columns), "csv", headers)  # BOM + header row
        while block := f.read(BLOCK):
            yield block


def job_csv(job: ScreeningJob, settings: Settings, lang: str) -> Iterator[bytes]:
    """The CSV download of a finished job (NotFound before it is done or when the file is gone)."""
    path = report_file(job, REPORT_FILES["csv"])
    return csv_download(path, lang, policy_from_settings(settings, job.on_date))
