#!/usr/bin/env bash
# Copy the map pages' third-party JS/CSS/fonts from the npm registry (pinned in
# package.json + package-lock.json) into maps/assets/vendor, served by the app at
# /static/vendor/. Why: operations centres run on closed networks, so no page may load
# anything from a CDN at run time. Called by `make assets`; idempotent.
set -euo pipefail
cd "$(dirname "$0")"
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi
out=assets/vendor
rm -rf "$out"
mkdir -p "$out/leaflet" "$out/be-vietnam-pro/files"
cp -r node_modules/leaflet/dist/. "$out/leaflet/"
cp node_modules/leaflet/LICENSE "$out/leaflet/LICENSE"
font=node_modules/@fontsource/be-vietnam-pro
for w in 400 500 600 700; do
  cp "$font/$w.css" "$out/be-vietnam-pro/$w.css"
  cp "$font"/files/be-vietnam-pro-{vietnamese,latin-ext,latin}-"$w"-normal.woff* \
    "$out/be-vietnam-pro/files/"
done
# the four weights in one stylesheet: one render-blocking request instead of four (issue 24)
cat "$out"/be-vietnam-pro/{400,500,600,700}.css > "$out/be-vietnam-pro/fonts.css"
cp "$font/LICENSE" "$out/be-vietnam-pro/LICENSE"
# Neighbouring countries (Natural Earth via world-atlas, public domain), cut to the region.
mkdir -p "$out/world-atlas"
node context-layer.js "$out/world-atlas/context.js"
cp node_modules/world-atlas/LICENSE "$out/world-atlas/LICENSE"
cp node_modules/world-atlas/README.md "$out/world-atlas/README.md"
touch "$out/.installed"
