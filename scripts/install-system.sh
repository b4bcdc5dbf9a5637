#!/usr/bin/env bash
# Install the Debian packages iocmap needs, only those missing (idempotent).
# PostgreSQL 15 + PostGIS 3 for the local cluster; gdal-bin (ogrinfo/ogr2ogr as a real
# client in tests); chromium + chromium-driver, and chromium-headless-shell (the same
# Chromium as the headless shell the browser tests drive: a third of the CPU per page); nodejs/npm for
# the vendored map assets; wrk for bench/; nginx for `make prod-local` (which runs its own
# nginx on loopback: the Debian service that the package starts is stopped and disabled).
# With IOCMAP_DATABASE_URL set, the server packages are still installed for their client
# tools but no cluster is started.
set -euo pipefail

# libreoffice-writer-nogui + poppler-utils: tests render notices and reports to PDF and look at
# the pages; fonts-liberation2: Liberation Serif has the metrics of Times New Roman (NĐ30)
want=(postgresql-15 postgresql-15-postgis-3 postgresql-contrib gdal-bin chromium chromium-headless-shell chromium-driver wrk python3-venv nginx libreoffice-writer-nogui poppler-utils fonts-liberation2)
command -v npm >/dev/null 2>&1 || want+=(nodejs npm)

missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "need root to install: apt-get install ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [[ " ${missing[*]} " == *" nginx "* ]] && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
fi
