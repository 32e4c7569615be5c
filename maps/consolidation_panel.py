"""The side panel of /maps/consolidation: a plan's area balance, counts and split/whole trade-off."""

from __future__ import annotations

from html import escape
from typing import Any

PANEL_WIDTH_PX = 360
PANEL_CSS = f"""
<style>
.lm-panel {{ position: fixed; top: 10px; right: 10px; z-index: 1000; width: {PANEL_WIDTH_PX}px;
  max-height: calc(100vh - 40px); overflow-y: auto; background: rgba(255,255,255,0.95);
  border-radius: 4px; box-shadow: 0 1px 5px rgba(0,0,0,0.4); padding: 8px 11px;
  font: 12px/1.45 "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; }}
.lm-panel h3 {{ margin: 0 0 4px; font-size: 14px; }}
.lm-panel h4 {{ margin: 8px 0 3px; font-size: 12.5px; }}
.lm-panel table {{ border-collapse: collapse; width: 100%; }}
.lm-panel th, .lm-panel td {{ text-align: left; padding: 1px 4px 1px 0; vertical-align: top; }}
.lm-panel td.num {{ text-align: right; white-space: nowrap; }}
.lm-panel .lm-ok {{ color: #1a7f37; font-weight: 600; }}
.lm-panel .lm-bad {{ color: #b42318; font-weight: 600; }}
.lm-panel .lm-chosen {{ background: #fff3cd; }}
.lm-panel .lm-meta {{ color: #444; }}
</style>
"""
BALANCE_ROWS = (
    ("accepted", "accepted_reclaimed", "复垦验收面积 / accepted reclaimed"),
    ("destination", "destination", "建新面积 / destination"),
    ("surplus", "surplus", "结余(可转地票) / surplus"),
    ("arable-gain", "arable_gain", "新增耕地 / arable gained"),
    ("arable-taken", "arable_taken", "占用耕地 / arable taken"),
)
VARIANT_ORDER = ("contiguous", "max_plot")
MODE_TITLES = {  # fallbacks: a plan's trade-off carries each variant's title from its policy
    "max_plot": "切分至下放上限 / cut to the delegation limit",
    "contiguous": "连片最大化 / maximise contiguous area",
}


def _mode_title(tradeoff: dict[str, Any], name: str) -> str:
    return str(tradeoff.get(name, {}).get("title") or MODE_TITLES.get(name, name))


def _area_cell(key: str, area: dict[str, float]) -> str:
    m2, mu = float(area["m2"]), float(area["mu"])
    return (
        f'<td class="num" id="lm-{key}" data-m2="{m2:.2f}" data-mu="{mu:.4f}">'
        f"{m2:,.2f} m²<br>{mu:,.4f} 亩 / mu</td>"
    )


def _check(ok: bool) -> str:
    return (
        '<span class="lm-ok">✓ 成立 / holds</span>'
        if ok
        else ('<span class="lm-bad">✗ 不成立 / broken</span>')
    )


def balance_html(balance: dict[str, Any]) -> str:
    """The balance table: accepted vs destination area, surplus, arable gained, taken and net."""
    rows = "".join(
        f"<tr><th>{escape(title)}</th>{_area_cell(key, balance[field])}</tr>"
        for key, field, title in BALANCE_ROWS
    )
    net = float(balance["arable_net_m2"])
    rows += (
        f'<tr><th>耕地净增 / arable net</th><td class="num" id="lm-arable-net" '
        f'data-m2="{net:.2f}">{net:,.2f} m²</td></tr>'
        f'<tr><th>建新 ≤ 复垦 / destination ≤ reclaimed</th><td id="lm-area-ok">'
        f"{_check(bool(balance['area_ok']))}</td></tr>"
        f'<tr><th>耕地不减少 / arable not reduced</th><td id="lm-arable-ok">'
        f"{_check(bool(balance['arable_ok']))}</td></tr>"
    )
    return f'<table class="lm-balance">{rows}</table>'


def _variant_cell(v: dict[str, Any], key: str, name: str) -> str:
    if not v.get("plots"):
        return f'<td data-variant="{name}">—</td>'
    values = {
        "plots": str(v["plots"]),
        "parcels": str(v["parcels"]),
        "largest": f"{v['largest_plot']['m2']:,.2f} m² ({v['largest_plot']['mu']:.2f} 亩)",
        "authority": escape(str(v.get("project_authority_by_size"))),
        "days": f"{float(v['days_saved']):g}",
        "compactness": f"{float(v['polsby_popper_mean']):.3f}",
    }
    return f'<td class="num" data-variant="{name}" data-key="{key}">{values[key]}</td>'


TRADEOFF_ROWS = (
    ("plots", "地块数 / plots"),
    ("parcels", "连片宗数 / contiguous parcels"),
    ("largest", "最大地块 / largest plot"),
    ("authority", "审批机关 / approval authority"),
    ("days", "节省天数 / days saved"),
    ("compactness", "紧凑度(PP均值) / compactness (Polsby-Popper)"),
)


def tradeoff_html(tradeoff: dict[str, Any], mode: str) -> str:
    """Both variants side by side; the plan's own mode highlighted."""
    head = "".join(
        f'<th class="{"lm-chosen" if name == mode else ""}" data-variant="{name}">'
        f"{escape(_mode_title(tradeoff, name))}</th>"
        for name in VARIANT_ORDER
    )
    body = ""
    for key, title in TRADEOFF_ROWS:
        cells = "".join(_variant_cell(tradeoff.get(n, {}), key, n) for n in VARIANT_ORDER)
        body += f"<tr><th>{escape(title)}</th>{cells}</tr>"
    return f'<table class="lm-tradeoff"><tr><th></th>{head}</tr>{body}</table>'


def counts_html(counts: dict[str, int]) -> str:
    """Counts of origin plots by role and of destination plots."""
    labels = {
        "reclaimed": "复垦 / reclaimed",
        "stays": "原地保留 / stays",
        "unmovable": "不可迁移 / unmovable",
        "spare": "未选用 / spare",
        "destinations": "建新地块 / destination plots",
    }
    cells = "".join(
        f'<tr><th>{escape(label)}</th><td class="num" id="lm-count-{key}">'
        f"{int(counts.get(key, 0))}</td></tr>"
        for key, label in labels.items()
    )
    return f'<table class="lm-counts">{cells}</table>'


def panel_html(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    """The whole panel for a plan summary (its JSON without plots) and its bookkeeping."""
    if meta.get("sample"):
        title = "示例村方案(未入库) / sample village plan (not stored)"
    else:
        title = f"整治方案 #{meta.get('id')} / consolidation plan #{meta.get('id')}"
    mode = summary.get("mode", "contiguous")
    details = [
        ("村 / village", summary.get("village") or meta.get("village_code") or "—"),
        ("状态 / status", meta.get("status") or summary.get("status")),
        ("方式 / mode", _mode_title(summary.get("tradeoff", {}), mode)),
        ("政策 / policy", f"{summary.get('policy_version')} ({summary.get('on')})"),
    ]
    meta_rows = "".join(
        f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in details
    )
    return (
        PANEL_CSS
        + f'<div class="lm-panel" id="lm-plan-panel" data-plan="{escape(str(meta.get("id")))}">'
        + f"<h3>{escape(title)}</h3>"
        + f'<table class="lm-meta">{meta_rows}</table>'
        + "".join(
            f'<p class="lm-warning"><b>⚠ {escape(w)}</b></p>' for w in summary.get("warnings", [])
        )
        + "<h4>面积平衡 / area balance</h4>"
        + balance_html(summary["balance"])
        + "<h4>地块 / plots</h4>"
        + counts_html(summary.get("counts", {}))
        + "<h4>拆分与连片的取舍 / split vs whole trade-off</h4>"
        + tradeoff_html(summary.get("tradeoff", {}), mode)
        + "</div>"
    )


__all__ = ["PANEL_WIDTH_PX", "balance_html", "counts_html", "panel_html", "tradeoff_html"]
