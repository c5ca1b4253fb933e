#!/usr/bin/env bash
# Sets up a machine to build the publications (and, with --test, to run the tests):
# the Debian packages WeasyPrint and the checks need, and a virtual environment in .venv
# holding publish and its Python dependencies. Safe to run again: it installs only what is
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=false
[ "${1:-}" = "--test" ] && want_tests=true

# WeasyPrint draws text with Pango; every build reads its PDFs' text back with poppler's
# pdftotext (the tests also use qpdf and poppler's other tools), and checks EPUBs with
# EPUBCheck, which runs on Java. EPUBCheck stays running from a Java source file
# (publish/core/java/), which needs the JDK's compiler, not only a runtime.
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig poppler-utils qpdf
          default-jdk-headless)
# The tests also check every kind's EPUB with DAISY Ace, which drives Chromium, and read EPUBs
# back as a second reading engine draws them, MuPDF's (mutool). Ace runs on Node.js, which
# Debian provides only when the machine has none of its own (Ace wants Node 20 or later).
if $want_tests; then
  packages+=(chromium mupdf-tools)
  command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
fi
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 && continue
  # A Java already on the machine that has the compiler serves as well as Debian's default one.
  if [ "$package" = default-jdk-headless ] \
      && java --list-modules 2>/dev/null | grep -q '^jdk.compiler@'; then
    continue
  fi
  missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_=""
  [ "$(id -u)" = 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if $want_tests; then
  .venv/bin/python -m pip install -q -e ".[test]"
else
  .venv/bin/python -m pip install -q -e .
fi
# An editable install compiles none of publish's modules, and where PYTHONDONTWRITEBYTECODE is
# set (CI images often set it) Python would compile them again in every run: 0.1 s of each
# command. Compiled now; Python checks each file against its source, so an edit is still seen.
.venv/bin/python -m compileall -q publish

# Ace, pinned by .tools/ace/package-lock.json, installed in the project (not globally), with
# no browser of its own: publish.core.ace points it at Debian's Chromium.
if $want_tests; then
  node_major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$node_major" -lt 20 ]; then
    echo "setup: DAISY Ace needs Node.js 20 or later; this machine has $(node --version)" >&2
    exit 1
  fi
  if [ ! -x .tools/ace/node_modules/.bin/ace-cli ]; then
    echo "setup: installing DAISY Ace into .tools/ace"
    (cd .tools/ace && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
