#!/usr/bin/env bash
# The load comparison in one command: Remora vs nginx, HAProxy and nghttpx (and the
# upstream alone as the floor) over loopback, interleaved rounds, 1 and 2 workers.
#
#   bench/run.sh            full run, about 16 minutes -> bench/results/latest.{json,md,png}
#                           and bench/RESULTS.md
#   bench/run.sh --quick    about 3.5 minutes -> bench/results/quick.{json,md,png}
#
# Other options go to bench/harness.py (--help lists them). Environment:
#   REMORA_BIN=path         benchmark this binary instead of building build/release
#   BENCH_SKIP_INSTALL=1    do not run bench/install-deps.sh
# Exits 0 whatever the figures are; non-zero only if the benchmark could not run.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "${BENCH_SKIP_INSTALL:-0}" = 1 ] || bench/install-deps.sh

remora=${REMORA_BIN:-}
recorded_command="bench/run.sh${*:+ $*}"
[ -z "$remora" ] || recorded_command="REMORA_BIN=$remora $recorded_command"
if [ -z "$remora" ]; then
  scripts/build.sh release
  remora=build/release/proxy/remora
fi

run_dir=$(mktemp -d /tmp/remora-bench.XXXXXX)
chmod 755 "$run_dir"

# The harness stops what it started; this is the backstop if it was killed outright.
# <run_dir>/pgids lists only the process groups still running.
cleanup() {
  if [ -f "$run_dir/pgids" ]; then
    while read -r pgid; do
      [ -n "$pgid" ] && kill -KILL -- "-$pgid" 2>/dev/null || true
    done < "$run_dir/pgids"
  fi
  rm -rf "$run_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

python3 bench/harness.py --remora "$remora" --run-dir "$run_dir" \
  --command "$recorded_command" "$@"
