#!/usr/bin/env bash
# Lighthouse mobile (the default form factor: Moto G Power emulation, simulated slow 4G,
# 4x CPU slowdown) on `/` and `/p/79` of a running iocmap, with Debian's chromium.
# Usage: bench/lighthouse.sh [BASE_URL]   (default http://127.0.0.1:8000, e.g. `make demo`)
# Installs the pinned npm `lighthouse` into bench/lighthouse/node_modules (not committed) on
# first use. Prints one line per page: performance, accessibility, FCP, LCP, TBT, bytes.
# Reports are kept in /tmp/iocmap-lighthouse/ for a closer look.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
base="${1:-http://127.0.0.1:8000}"
lh="$here/lighthouse"
if [ ! -x "$lh/node_modules/.bin/lighthouse" ]; then
  (cd "$lh" && npm ci --no-audit --no-fund --loglevel=error)
fi
out=/tmp/iocmap-lighthouse
mkdir -p "$out"
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
for path in / /p/79; do
  name="$(echo "$path" | tr '/' '_')"
  "$lh/node_modules/.bin/lighthouse" "$base$path" --quiet \
    --only-categories=performance,accessibility \
    --chrome-flags="--headless=new --no-sandbox" \
    --output=json --output-path="$out/report$name.json" >/dev/null
  node -e '
    const r = require(process.argv[1]), a = r.audits;
    const ms = (k) => Math.round(a[k].numericValue);
    console.log(`${process.argv[2]}\tperformance ${Math.round(r.categories.performance.score * 100)}` +
      `\taccessibility ${Math.round(r.categories.accessibility.score * 100)}` +
      `\tFCP ${ms("first-contentful-paint")} ms\tLCP ${ms("largest-contentful-paint")} ms` +
      `\tTBT ${ms("total-blocking-time")} ms\tbytes ${Math.round(a["total-byte-weight"].numericValue / 1024)} KiB`);
  ' "$out/report$name.json" "$path"
done
