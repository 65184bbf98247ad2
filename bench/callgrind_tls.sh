#!/usr/bin/env bash
# Instructions per request of Remora's TLS keep-alive path, counted by callgrind: the
# repeatable before/after figure on a busy machine (wall-clock rates are not).
#   bench/callgrind_tls.sh path/to/remora [seconds] [https|http|https-close]
# "http" sends the same load to the plaintext listener (the difference is what TLS
# costs per request); "https-close" adds Connection: close, a TLS handshake per request.
# Runs the upstream nginx and Remora (one worker, bench/configs/remora.yaml) under
# valgrind --tool=callgrind, warms up, zeroes the counters, drives wrk over https
# (4 keep-alive connections, TLS_AES_128_GCM_SHA256) and prints Ir / request. The
# callgrind output stays in the scratch directory it prints, for callgrind_annotate.
set -euo pipefail
remora=$(realpath "$1")
seconds=${2:-10}
mode=${3:-https}
scheme=${mode%-close}
close=()
[ "$mode" = https-close ] && close=(-H "Connection: close")
bench=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/remora-callgrind.XXXXXX)
chmod 755 "$dir"
cd "$bench"
read -r port tls_port upstream_port upstream_h2 upstream_tls admin_port < <(python3 -c '
from lib import procs; print(*procs.free_ports(6))')
python3 - "$dir" "$port" "$tls_port" "$upstream_port" "$upstream_h2" "$upstream_tls" \
  "$admin_port" <<'PY'
import os, sys
from lib import targets, tls
d, port, tls_port, up, up_h2, up_tls, admin = sys.argv[1:]
material = tls.Material(d).template_values()
os.makedirs(os.path.join(d, "www"), exist_ok=True)
open(os.path.join(d, "www", "64k"), "wb").write(os.urandom(65536))
targets.render("upstream-nginx.conf", os.path.join(d, "upstream.conf"),
               {"WORKERS": 1, "RUN_DIR": d, "PORT": up, "H2_PORT": up_h2, "TLS_PORT": up_tls}
               | material)
targets.render("remora.yaml", os.path.join(d, "remora.yaml"),
               {"WORKERS": 1, "RUN_DIR": d, "PORT": port, "TLS_PORT": tls_port, "H2_PORT": 0,
                "UPSTREAM_PORT": up, "ADMIN_PORT": admin} | material)
PY
nginx -p "$dir" -c "$dir/upstream.conf" &
nginx_pid=$!
valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" \
  "$remora" -c "$dir/remora.yaml" --concurrency 1 -l warning >"$dir/remora.log" 2>&1 &
remora_pid=$!
trap 'kill $remora_pid $nginx_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sk -o /dev/null "https://127.0.0.1:$tls_port/small" && break
  sleep 0.2
done
export OPENSSL_CONF=$dir/tls/client-openssl.cnf
wrk -t1 -c4 -d2s "https://127.0.0.1:$tls_port/small" >/dev/null
wrk -t1 -c4 -d2s "http://127.0.0.1:$port/small" >/dev/null
callgrind_control -z "$remora_pid" >/dev/null 2>&1
target_port=$tls_port
[ "$scheme" = https ] || target_port=$port
requests=$(wrk -t1 -c4 -d"${seconds}s" -s lib/wrk_summary.lua "${close[@]}" \
  "$scheme://127.0.0.1:$target_port/small" |
  sed -n 's/^WRK_JSON {"requests":\([0-9]*\),.*"status":\([0-9]*\).*/\1 \2/p')
callgrind_control -d "$remora_pid" >/dev/null 2>&1
sleep 1
# The dump callgrind_control wrote (the newest before Remora exits).
out=$(ls -t "$dir"/callgrind.out.* | head -1)
ir=$(callgrind_annotate "$out" 2>/dev/null |
  sed -n 's/^\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
# wrk opens its 4 connections inside the measured window (every request's with
# https-close): handshakes are reported apart, so the last figure is the record path.
handshakes=$(callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null |
  sed -n 's/^ *\([0-9,]*\) .*:SSL_do_handshake .*/\1/p' | head -1 | tr -d ,)
set -- $requests
echo "requests $1 (non-2xx $2), Ir $ir (handshakes ${handshakes:-0}), Ir/request" \
  "$((ir / $1)), without the handshakes $(((ir - ${handshakes:-0}) / $1)); output in $dir"
