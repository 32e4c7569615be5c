"""HTML representation of the OGC API documents (f=html or a browser's Accept header)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from maps.assets import LEAFLET_CSS, LEAFLET_JS

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def wants_html(params: dict[str, str], accept: str | None) -> bool:
    """f=html, or no f and a browser that prefers HTML over JSON."""
    f = params.get("f")
    if f is not None:
        return f == "html"
    if not accept:
        return False
    best = accept.split(",")[0].split(";")[0].strip().lower()
    return best == "text/html"


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element (no '</script>' can close it early)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def render(template: str, doc: dict[str, Any], **extra: Any) -> str:
    """One OGC document as an HTML page."""
    title = extra.pop("title", None) or doc.get("title") or "landmarket OGC API"
    context: dict[str, Any] = {"doc": doc, "title": title, **extra}
    if template in ("items", "item"):
        features = doc.get("features", [doc] if template == "item" else [])
        columns: list[str] = []
        for feature in features:
            columns += [k for k in feature.get("properties", {}) if k not in columns]
        context |= {
            "columns": columns,
            "geojson": _script_json({"type": "FeatureCollection", "features": features}),
            "leaflet_css": LEAFLET_CSS,
            "leaflet_js": LEAFLET_JS,
        }
    return _ENV.get_template(f"{template}.html").render(context)
