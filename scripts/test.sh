#!/usr/bin/env bash
# The test command: set up, then lint, format check, type check and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
.venv/bin/python -m idais_kg.devtools.layout
.venv/bin/pytest -q -n 2  # two processes: most tests wait on servers, browsers and JVMs
