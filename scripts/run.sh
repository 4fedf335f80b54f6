#!/usr/bin/env bash
# The main job: set up, build the dumps, validate, and serve the graph on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/idais-kg build
.venv/bin/idais-kg query goals-by-progress
# validate prints the consistency report; its exit code says whether the data conforms
.venv/bin/idais-kg validate
if .venv/bin/python -c "import idais_kg.serve" 2>/dev/null; then
  exec .venv/bin/idais-kg serve "$@"
fi
echo "(serving is not part of this checkout yet: see the open issue 'Serve')"
