#!/usr/bin/env bash
# The main job: installs dependencies, builds Remora, starts a demo upstream (nginx on
# 127.0.0.1:8080) and Remora with config/examples/demo.yaml in front of it.
# Stop both with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh release

run_dir=$(mktemp -d /tmp/remora-demo.XXXXXX)
mkdir -p "$run_dir/html"
# nginx workers run unprivileged: they must be able to read the document root.
chmod 755 "$run_dir" "$run_dir/html"
echo "hello from the demo upstream" > "$run_dir/html/index.html"
cat > "$run_dir/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $run_dir/nginx.pid;
error_log $run_dir/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:8080;
    root $run_dir/html;
    location / { add_header x-demo-upstream nginx; }
  }
}
CONF

nginx -c "$run_dir/nginx.conf" -p "$run_dir" &
nginx_pid=$!
./build/release/proxy/remora -c config/examples/demo.yaml --concurrency 2 &
remora_pid=$!
trap 'kill $remora_pid $nginx_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$run_dir"' EXIT INT TERM

for _ in $(seq 50); do
  curl -fs http://127.0.0.1:9901/ready >/dev/null 2>&1 && break
  sleep 0.1
done

cat <<TRY

Remora is running in front of nginx. Try:
  curl -v http://127.0.0.1:10000/              # proxied to nginx on :8080
  curl -v http://127.0.0.1:10000/healthz       # answered by the health_check filter
  curl http://127.0.0.1:9901/ready             # admin: LIVE
  curl http://127.0.0.1:9901/listeners         # admin: bound listeners
  curl -X POST http://127.0.0.1:9901/healthcheck/fail   # /healthz now answers 503
Config: config/examples/demo.yaml   (validate one: build/release/proxy/remora --mode validate -c FILE)
Ctrl-C stops Remora (graceful drain) and nginx.

TRY
wait $remora_pid
