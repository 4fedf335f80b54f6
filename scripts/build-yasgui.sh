#!/usr/bin/env bash
# Bundle the YASGUI SPARQL editor from the npm registry for the /query page (build time only: the server never
# fetches anything). The bundle lands in src/idais_kg/serve/static/vendor/, which is git-ignored; without it the
# query page falls back to a plain textarea editor.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/build/yasgui"
vendor="$root/src/idais_kg/serve/static/vendor"
version="${YASGUI_VERSION:-4.6.2}"
mkdir -p "$work" "$vendor"
npm install --prefix "$work" --no-audit --no-fund --ignore-scripts "@zazuko/yasgui@$version" >/dev/null
dist="$work/node_modules/@zazuko/yasgui/build"
cp "$dist/yasgui.min.js" "$vendor/yasgui.min.js"
cp "$dist/yasgui.min.css" "$vendor/yasgui.min.css"
echo "YASGUI $version bundled into $vendor"
