#!/usr/bin/env bash
# Builds the dashboard (web/: Leaflet, Chart.js, Vite) into src/evfleet/web/static, where
# `evfleet serve` serves it and `pip install .` packages it. Does nothing when the bundle
# is newer than every source (web/src, web/*.html, the lockfile and the build config);
# --force builds anyway. `npm ci` runs only when web/package-lock.json changed since the
# last install (a copy of it in web/node_modules is the stamp).
#
# Needs Node.js 20.19+ (or 22.12+) and npm; the npm registry is needed for `npm ci`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
web=web
out=src/evfleet/web/static/index.html
lock_stamp="$web/node_modules/.evfleet-package-lock.json"

if [ ! -f "$web/package.json" ]; then
    echo "evfleet: $web/package.json is missing; cannot build the dashboard" >&2
    exit 1
fi

force=0
if [ "${1:-}" = "--force" ]; then
    force=1
fi

if [ "$force" = 0 ] && [ -f "$out" ] && [ -f src/evfleet/web/static/track.html ]; then
    newer=$(find "$web/src" "$web"/*.html "$web/package.json" "$web/package-lock.json" \
        "$web"/vite.config.* "$web/tsconfig.json" -newer "$out" -print -quit 2>/dev/null || true)
    if [ -z "$newer" ]; then
        exit 0 # the bundle is up to date
    fi
fi

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    echo "evfleet: building the dashboard needs Node.js 20.19 or newer and npm, and" >&2
    echo "evfleet: 'npm' or 'node' is not on PATH. Install Node.js (with npm), e.g." >&2
    echo "evfleet: 'apt-get install nodejs npm' or from nodejs.org, then run scripts/build_web.sh" >&2
    exit 1
fi
if ! node -e '
    const [major, minor] = process.versions.node.split(".").map(Number);
    process.exit((major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major > 22 ? 0 : 1);
'; then
    echo "evfleet: building the dashboard needs Node.js 20.19+ or 22.12+ (Vite 7); found $(node --version)" >&2
    exit 1
fi

echo "evfleet: building the dashboard (web/ -> src/evfleet/web/static)" >&2
if [ ! -d "$web/node_modules" ] || ! cmp -s "$web/package-lock.json" "$lock_stamp"; then
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error) >&2
    cp "$web/package-lock.json" "$lock_stamp"
fi
(cd "$web" && npm run --silent build -- --logLevel warn) >&2
touch "$out"
