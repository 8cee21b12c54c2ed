#!/usr/bin/env bash
# Installs every Debian package and npm reference package lfm.cpp needs to build and test.
# Idempotent: safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

DEB_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  nlohmann-json3-dev libpcre2-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  libhwy-dev libjpeg62-turbo-dev libpng-dev libwebp-dev libgif-dev libcpp-httplib-dev
  clang libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer (clang 14 on Debian 12)
  python3 python3-jinja2 python3-jsonschema python3-numpy python3-pil python3-venv
  nodejs npm
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# node/npm may come from elsewhere on the machine; only ask apt for them if absent.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  tmp=(); for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]}")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages present"
fi

# Independent reference implementations used only by tests (tools/refs/package.json pins them).
if [ -f tools/refs/package.json ]; then
  if [ ! -d tools/refs/node_modules ] || [ tools/refs/package.json -nt tools/refs/node_modules ]; then
    echo "setup: installing npm reference packages"
    (cd tools/refs && npm install --no-audit --no-fund --loglevel=error && touch node_modules)
  else
    echo "setup: npm reference packages present"
  fi
fi

# The official openai Python client for the `lfm serve` integration test (ctest -L server), pinned, in a
# git-ignored venv that also sees the Debian python3-jsonschema (to validate JSON Schema answers).
OPENAI_PY_VERSION=1.99.9
VENV=tools/refs/.venv-openai
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import openai, sys; sys.exit(openai.__version__ != '$OPENAI_PY_VERSION')" 2>/dev/null; then
  echo "setup: creating $VENV with openai==$OPENAI_PY_VERSION"
  python3 -m venv --system-site-packages "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "openai==$OPENAI_PY_VERSION"
else
  echo "setup: $VENV present"
fi
