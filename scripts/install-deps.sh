#!/usr/bin/env bash
# Installs every Debian package paygate needs to build, test and benchmark, and the npm packages of the browser
# tests (tests/browser) and of the console (src/console/web: uPlot, embedded in the binary). Idempotent: only calls
# apt-get when something is missing, and npm only when a node_modules is missing or was installed from another
# package-lock.json.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost-dev libssl-dev libsqlite3-dev sqlite3 libsodium-dev libqrencode-dev
  libtcmalloc-minimal4  # the server's allocator (docs/adr/0002-tcmalloc.md)
  postgresql libpq-dev
  nlohmann-json3-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev
  python3 python3-cryptography curl openssl
  chromium fonts-wqy-microhei  # browser tests (tests/browser): Debian's chromium (none is downloaded), CJK glyphs
)
if [[ "${1:-}" == "--bench" ]]; then PACKAGES+=(nginx-light); fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and npm by command, not by package: they may come from another package (a nodejs that bundles npm).
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages, exactly as locked, where a lock has changed since the last install (its hash is kept beside them):
# the browser tests' (playwright-core only) and the console's (uPlot, compiled into the binary by the build).
npm_ci_if_changed() {
  local dir="$1"
  [[ -f "$dir/package-lock.json" ]] || return 0
  local lock_hash stamp
  lock_hash=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  stamp="$dir/node_modules/.paygate-lock-sha256"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_hash" ]]; then
    echo "install-deps: npm ci in ${dir#"$ROOT"/}"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    echo "$lock_hash" >"$stamp"
  fi
}
npm_ci_if_changed "$ROOT/tests/browser"
npm_ci_if_changed "$ROOT/src/console/web"
