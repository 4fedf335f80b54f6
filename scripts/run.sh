#!/usr/bin/env bash
# The main job: set up, build the dumps, validate, and serve the graph on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/idais-kg build
.venv/bin/idais-kg query goals-by-progress
if .venv/bin/idais-kg --help | grep -q " validate"; then .venv/bin/idais-kg validate; fi
if .venv/bin/idais-kg --help | grep -q " serve"; then exec .venv/bin/idais-kg serve "$@"; fi
