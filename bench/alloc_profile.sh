#!/usr/bin/env bash
# Heap allocations and instructions per proxied request, from valgrind.
#
#   bench/alloc_profile.sh [N1 N2]      defaults: 2000 12000
#
# Starts the bench upstream (nginx, configs/upstream-nginx.conf) and Remora with
# configs/remora.yaml at --concurrency 1, twice under valgrind --tool=dhat (heap
# blocks) and twice under --tool=callgrind (instructions, Ir), sending N1 then N2
# keep-alive HTTP/1.1 requests for GET /small (h2load --h1, 4 connections, one
# request at a time each). Start-up and shutdown cost the same in both runs, so
#   per request = (total(N2) - total(N1)) / (N2 - N1).
# CLOSE=1 sends each request on a new connection instead (`Connection: close`, one at a
# time, bench/lib/one_request_per_connection.py): the figures are then per connection.
# Environment: REMORA_BIN (default build/release/proxy/remora), CONFIG (a template in
# bench/configs, default remora.yaml; remora-accesslog.yaml adds the access log),
# KEEP=1 keeps the scratch directory (valgrind outputs: callgrind_annotate, dh_view.html).
set -euo pipefail
cd "$(dirname "$0")/.."

n1=${1:-2000}
n2=${2:-12000}
remora=${REMORA_BIN:-build/release/proxy/remora}
config=${CONFIG:-remora.yaml}
for tool in valgrind h2load nginx curl; do
  command -v "$tool" >/dev/null || { echo "alloc_profile: $tool not found" >&2; exit 1; }
done
[ -x "$remora" ] || { echo "alloc_profile: no Remora binary at $remora" >&2; exit 1; }

run_dir=$(mktemp -d /tmp/remora-alloc.XXXXXX)
chmod 755 "$run_dir"
mkdir -p "$run_dir/www"
chmod 755 "$run_dir/www"
pids=()
cleanup() {
  # SIGTERM: the nginx master then stops its workers too.
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "outputs kept in $run_dir"; else rm -rf "$run_dir"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
render() {  # template output NAME=value...
  local template=$1 out=$2
  shift 2
  local args=()
  for kv in "$@"; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${args[@]}" "bench/configs/$template" >"$out"
}
wait_serving() {  # port pid
  for _ in $(seq 1 300); do
    kill -0 "$2" 2>/dev/null || { echo "alloc_profile: process $2 exited" >&2; exit 1; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/small")" = 200 ] && return
    sleep 0.2
  done
  echo "alloc_profile: nothing serving on port $1" >&2
  exit 1
}

# The configs also carry a TLS listener (the tls_* scenarios); it stays idle here.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench \
  -keyout "$run_dir/key.pem" -out "$run_dir/cert.pem" 2>/dev/null
tls=(TLS_CERT="$run_dir/cert.pem" TLS_KEY="$run_dir/key.pem")
upstream_port=$(free_port)
render upstream-nginx.conf "$run_dir/upstream.conf" WORKERS=1 RUN_DIR="$run_dir" \
  PORT="$upstream_port" H2_PORT="$(free_port)" TLS_PORT="$(free_port)" "${tls[@]}"
nginx -p "$run_dir" -c "$run_dir/upstream.conf" >"$run_dir/upstream.out" 2>&1 &
pids+=($!)
wait_serving "$upstream_port" "${pids[-1]}"

port=$(free_port)
render "$config" "$run_dir/remora.yaml" PORT="$port" ADMIN_PORT="$(free_port)" \
  UPSTREAM_PORT="$upstream_port" RUN_DIR="$run_dir" TLS_PORT="$(free_port)" "${tls[@]}"

# Prints the tool's total for one run of N requests.
measure() {  # tool n
  local tool=$1 n=$2 out="$run_dir/$1.$2"
  valgrind --tool="$tool" --log-file="$out.log" "--$tool-out-file=$out.out" \
    "$remora" -c "$run_dir/remora.yaml" --concurrency 1 -l warning --drain-time-s 0 \
    >"$out.remora" 2>&1 &
  local pid=$!
  pids+=("$pid")
  wait_serving "$port" "$pid"
  if [ "${CLOSE:-0}" = 1 ]; then
    python3 bench/lib/one_request_per_connection.py "$port" "$n" >"$out.h2load"
  else
    h2load --h1 -n "$n" -c 4 -t 1 "http://127.0.0.1:$port/small" >"$out.h2load"
  fi
  grep -q "succeeded, 0 failed" "$out.h2load" ||
    { echo "alloc_profile: requests failed (see $out.h2load)" >&2; KEEP=1; exit 1; }
  kill -TERM "$pid"
  wait "$pid" || true
  if [ "$tool" = dhat ]; then
    sed -n 's/.*Total: *[0-9,]* bytes in \([0-9,]*\) blocks.*/\1/p' "$out.log" | tr -d ,
  else
    sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out.out"
  fi
}

per_request() {  # tool label
  local a b
  a=$(measure "$1" "$n1")
  b=$(measure "$1" "$n2")
  python3 -c "import sys; a,b,n1,n2=map(int,sys.argv[1:]); \
print(f'$2 per request: {(b-a)/(n2-n1):.2f}   (N={n1}: {a}, N={n2}: {b})')" "$a" "$b" "$n1" "$n2"
}

if [ "${CLOSE:-0}" = 1 ]; then
  echo "Remora: $remora, $config, 1 worker, one connection per request, GET /small (12-byte body)"
else
  echo "Remora: $remora, $config, 1 worker, h2load --h1 -c 4, GET /small (12-byte body)"
fi
per_request dhat "heap allocations"
per_request callgrind "instructions (Ir)"
