#!/usr/bin/env bash
# Installs, from Debian/Ubuntu packages, what the platform needs outside Python:
# a PostgreSQL server with PostGIS 3, Chromium and its driver (map tests), python3-venv and a
# CJK font (Chinese in PDFs and screenshots).
# Does nothing when everything is already there; uses sudo when not run as root.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

need=()
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  need+=(postgresql postgis)
else
  ver=$(basename "$(dirname "$pgbin")")
  [ -f "/usr/share/postgresql/$ver/extension/postgis.control" ] || need+=("postgresql-$ver-postgis-3")
fi
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || need+=(python3-venv)
command -v ogr2ogr >/dev/null 2>&1 || need+=(gdal-bin)  # the import bench's peer (bench/imports.py)
# A CJK font, so Chinese renders in PDFs and browser screenshots (not as boxes).
if ! { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh family 2>/dev/null)" ]; } \
  && [ ! -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; then
  need+=(fonts-noto-cjk)
fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "需要安装 / please install: ${need[*]} (no apt-get on this machine)" >&2
  exit 1
fi
echo "安装系统依赖 / installing system packages: ${need[*]}"
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
