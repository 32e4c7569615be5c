"""A bilingual colour legend as a Leaflet control, reusable by every map page."""

from __future__ import annotations

from html import escape

from branca.element import MacroElement
from folium.template import Template

from maps.js import js_literal

LEGEND_CSS = """
<style>
.lm-legend { background: rgba(255,255,255,0.92); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); font: 12px/1.45 "Noto Sans CJK SC", "Microsoft YaHei",
  sans-serif; max-height: 60vh; overflow-y: auto; }
.lm-legend h4 { margin: 0 0 4px; font-size: 13px; }
.lm-legend .lm-swatch { display: inline-block; width: 14px; height: 11px; margin-right: 6px;
  border: 1px solid #505050; vertical-align: middle; }
.lm-legend .lm-note { margin-top: 4px; color: #555; }
</style>
"""


class Legend(MacroElement):
    """Legend control: a title and (colour, bilingual label) rows, plus an optional note."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}{{ this.css }}{% endmacro %}
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
            {{ this.get_name() }}.onAdd = function (map) {
                var div = L.DomUtil.create('div', 'lm-legend leaflet-control');
                div.innerHTML = {{ this.inner_js }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        title: str,
        entries: list[tuple[str, str]],
        note: str | None = None,
        position: str = "bottomright",
    ) -> None:
        super().__init__()
        self._name = "Legend"
        self.position = position
        self.css = LEGEND_CSS
        rows = "".join(
            f'<div class="lm-row"><span class="lm-swatch" style="background:{escape(colour)}">'
            f"</span>{escape(label)}</div>"
            for colour, label in entries
        )
        note_html = f'<div class="lm-note">{escape(note)}</div>' if note else ""
        self.inner_html = f"<h4>{escape(title)}</h4>{rows}{note_html}"
        self.inner_js = js_literal(self.inner_html)
