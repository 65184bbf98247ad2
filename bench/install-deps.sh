#!/usr/bin/env bash
# Installs the load-benchmark tools on Debian bookworm: the peers (nginx, HAProxy,
# nghttpx), the load generators (wrk, h2load), gnuplot for the plot and the tools the
# harness calls. Idempotent: packages already present are left as they are.
set -euo pipefail

packages=(
  nginx-light haproxy nghttp2-proxy nghttp2-client wrk gnuplot-nox
  python3 procps git
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  # nginx, HAProxy and nghttpx ship services; the benchmark runs its own instances on
  # free loopback ports, so the packaged daemons must not start (and take port 80).
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
