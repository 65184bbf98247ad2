#!/usr/bin/env bash
# Installs everything Remora needs to build, run and test on Debian bookworm, plus
# any packages named as arguments (bench/install-deps.sh adds the peers).
# Idempotent: packages already present are left as they are.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libuv1-dev node-llhttp libnghttp2-dev libssl-dev
  prometheus-cpp-dev libyaml-cpp-dev libre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  curl openssl python3 python3-pytest nginx-light netcat-openbsd procps
  prometheus nghttp2-client nghttp2-server python3-grpcio python3-h2
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  # Packages with daemons (nginx, prometheus) must not start them: tests run their
  # own instances on free ports.
  no_start=$(mktemp)
  printf '#!/bin/sh\nexit 101\n' > "$no_start"
  chmod +x "$no_start"
  had_policy=0
  [ -e /usr/sbin/policy-rc.d ] && had_policy=1
  [ "$had_policy" = 1 ] || $SUDO cp "$no_start" /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  [ "$had_policy" = 1 ] || $SUDO rm -f /usr/sbin/policy-rc.d
  rm -f "$no_start"
fi
