#!/usr/bin/env bash
# Re-create (or verify) the pinned front-end assets the platform serves under /static/vendor/.
#
# The platform's machines and the bureaus' intranets have no internet, so every script and
# stylesheet a page loads is committed under api/static/vendor/<package>@<version>/ with its
# licence. This script documents where each file came from: it fetches the pinned npm tarballs
# with `npm pack` (npm checks each tarball against the registry's integrity hash), copies the
# files the pages need, and writes api/static/vendor/SHA256SUMS.
#
#   scripts/vendor-assets.sh          re-create api/static/vendor/ from the npm registry
#   scripts/vendor-assets.sh --check  verify the committed files against SHA256SUMS (offline)
#
# Pinned packages (package@version: files copied, "src=dst" renames):
#   leaflet@1.9.4             map library; folium pages use it instead of folium's CDN default
#   leaflet.vectorgrid@1.3.0  Leaflet.VectorGrid bundled build, for vector-tile pages (issue 5)
#   swagger-ui-dist@5.35.0    the /docs page (FastAPI's default loads it from a CDN)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/api/static/vendor"

ASSETS=(
  "leaflet@1.9.4|dist/leaflet.js=leaflet.js dist/leaflet.css=leaflet.css dist/images/layers.png=images/layers.png dist/images/layers-2x.png=images/layers-2x.png dist/images/marker-icon.png=images/marker-icon.png dist/images/marker-icon-2x.png=images/marker-icon-2x.png dist/images/marker-shadow.png=images/marker-shadow.png LICENSE=LICENSE"
  "leaflet.vectorgrid@1.3.0|dist/Leaflet.VectorGrid.bundled.min.js=Leaflet.VectorGrid.bundled.min.js README.md=README.md"
  "swagger-ui-dist@5.35.0|swagger-ui-bundle.js=swagger-ui-bundle.js swagger-ui.css=swagger-ui.css favicon-32x32.png=favicon-32x32.png LICENSE=LICENSE NOTICE=NOTICE swagger-ui-bundle.js.LICENSE.txt=swagger-ui-bundle.js.LICENSE.txt"
)

if [[ "${1:-}" == "--check" ]]; then
  cd "$VENDOR"
  sha256sum --check --quiet SHA256SUMS
  echo "vendored assets match SHA256SUMS"
  exit 0
fi

command -v npm >/dev/null || { echo "npm is needed to re-create the vendored assets" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

for entry in "${ASSETS[@]}"; do
  spec="${entry%%|*}"
  files="${entry#*|}"
  echo "== $spec"
  (cd "$WORK" && npm pack --silent "$spec" >/dev/null)
  tarball="$(ls "$WORK"/*.tgz)"
  mkdir -p "$WORK/x"
  tar xzf "$tarball" -C "$WORK/x"
  dest="$VENDOR/$spec"
  rm -rf "$dest"
  for pair in $files; do
    src="${pair%%=*}"
    dst="${pair#*=}"
    mkdir -p "$(dirname "$dest/$dst")"
    cp "$WORK/x/package/$src" "$dest/$dst"
  done
  rm -rf "$WORK/x" "$tarball"
done

# Leaflet.VectorGrid ships its licence (Beerware, plus the BSD/ISC notices of the libraries its
# bundled build contains) inside README.md rather than as a LICENSE file.
vg="$VENDOR/leaflet.vectorgrid@1.3.0"
{
  echo "Leaflet.VectorGrid 1.3.0 - licence as stated in the package's README.md"
  echo
  echo "Its bundled build (Leaflet.VectorGrid.bundled.min.js) includes:"
  grep -E '^\* \[.*\(Under .* license\)' "$vg/README.md"
  echo
  sed -n '/^## Legalese/,$p' "$vg/README.md"
} >"$vg/LICENSE"
rm "$vg/README.md"

cd "$VENDOR"
find . -type f ! -name SHA256SUMS ! -name README.md | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum >SHA256SUMS
echo "wrote $VENDOR/SHA256SUMS"
