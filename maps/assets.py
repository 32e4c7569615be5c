"""Front-end assets served by the platform itself: folium pages load nothing from a CDN."""

from __future__ import annotations

import re
from pathlib import Path

import folium

STATIC_URL = "/static"
STATIC_DIR = Path(__file__).resolve().parent.parent / "api" / "static"

# Pinned packages under api/static/vendor/ (see scripts/vendor-assets.sh for their origin).
LEAFLET = "leaflet@1.9.4"
VECTORGRID = "leaflet.vectorgrid@1.3.0"
SWAGGER_UI = "swagger-ui-dist@5.35.0"


def vendor_url(package: str, path: str) -> str:
    """URL of one vendored file, e.g. vendor_url(LEAFLET, 'leaflet.js')."""
    return f"{STATIC_URL}/vendor/{package}/{path}"


LEAFLET_JS = vendor_url(LEAFLET, "leaflet.js")
LEAFLET_CSS = vendor_url(LEAFLET, "leaflet.css")
VECTORGRID_JS = vendor_url(VECTORGRID, "Leaflet.VectorGrid.bundled.min.js")
SWAGGER_JS = vendor_url(SWAGGER_UI, "swagger-ui-bundle.js")
SWAGGER_CSS = vendor_url(SWAGGER_UI, "swagger-ui.css")
SWAGGER_FAVICON = vendor_url(SWAGGER_UI, "favicon-32x32.png")
FAVICON = f"{STATIC_URL}/favicon.svg"

# Optional extras a page may ask for by name: (kind, name, url).
EXTRAS: dict[str, list[tuple[str, str, str]]] = {
    "vectorgrid": [("js", "leaflet_vectorgrid", VECTORGRID_JS)],
}


class LocalMap(folium.Map):
    """A folium Map whose template loads only Leaflet, from /static/vendor.

    folium's default header pulls leaflet, jquery, bootstrap, font-awesome and
    Leaflet.awesome-markers from CDNs; our pages need Leaflet alone.
    """

    default_js = [("leaflet", LEAFLET_JS)]
    default_css = [("leaflet_css", LEAFLET_CSS)]

    def __init__(self, *args, extras: tuple[str, ...] = (), **kwargs) -> None:
        kwargs.setdefault("tiles", None)
        super().__init__(*args, **kwargs)
        # Instance copies, so adding an extra never leaks into other maps.
        self.default_js = list(type(self).default_js)
        self.default_css = list(type(self).default_css)
        for extra in extras:
            for kind, name, url in EXTRAS[extra]:
                (self.default_js if kind == "js" else self.default_css).append((name, url))


_ASSET_RE = re.compile(
    r"<script[^>]*\ssrc=[\"']([^\"']+)[\"']|<link[^>]*\shref=[\"']([^\"']+)[\"']",
    re.IGNORECASE,
)


def asset_urls(html: str) -> list[str]:
    """Every <script src> and <link href> URL in a page."""
    return [a or b for a, b in _ASSET_RE.findall(html)]


def external_asset_urls(html: str) -> list[str]:
    """Script and stylesheet URLs that leave the platform (http, https or protocol-relative)."""
    return [u for u in asset_urls(html) if re.match(r"^(https?:)?//", u, re.IGNORECASE)]


def missing_local_assets(html: str) -> list[str]:
    """Local /static asset URLs in a page that have no file behind them."""
    prefix = STATIC_URL + "/"
    return [
        url
        for url in asset_urls(html)
        if url.startswith(prefix) and not (STATIC_DIR / url[len(prefix) :]).is_file()
    ]
