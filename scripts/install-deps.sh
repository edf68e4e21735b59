#!/usr/bin/env bash
# Installs every Debian package paygate needs to build, test and benchmark.
# Idempotent: only calls apt-get when something is missing.
set -euo pipefail
PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost-dev libssl-dev libsqlite3-dev sqlite3 libsodium-dev libqrencode-dev
  postgresql libpq-dev
  nlohmann-json3-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev
  python3 python3-cryptography curl openssl
)
if [[ "${1:-}" == "--bench" ]]; then PACKAGES+=(nginx-light); fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
