#!/usr/bin/env bash
# The main job: set up, build the dumps, validate, and serve the graph on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/idais-kg build
.venv/bin/idais-kg query goals-by-progress
# validate prints the consistency report; its exit code says whether the data conforms
.venv/bin/idais-kg validate
# serve on http://127.0.0.1:8000/ (SPARQL at /sparql, pages at /, API at /api/docs); options pass through
exec .venv/bin/idais-kg serve "$@"
