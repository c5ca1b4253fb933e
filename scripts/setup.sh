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
