#!/usr/bin/env bash
# Installs the load-benchmark tools on Debian bookworm, with everything the project
# itself needs: the peers (nginx, HAProxy, nghttpx), the load generators (wrk,
# h2load) and gnuplot for the plot. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/install-deps.sh haproxy nghttp2-proxy wrk gnuplot-nox git
