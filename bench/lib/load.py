"""Scenarios and the load generators (wrk for HTTP/1.1, h2load for HTTP/2)."""

import json
import math
import os
import re
from dataclasses import dataclass, field

WRK_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrk_summary.lua")


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    tool: str  # "wrk" or "h2load"
    path: str
    connections: int
    streams: int = 1
    headers: tuple = field(default_factory=tuple)
    tls: bool = False  # https to the target's TLS listener (see lib/tls.py)


SCENARIOS = [
    Scenario("h1_small", "HTTP/1.1 keep-alive, 12-byte response (wrk, 64 connections)",
             "wrk", "/small", 64),
    Scenario("h1_64k", "HTTP/1.1 keep-alive, 64 KiB response (wrk, 64 connections)",
             "wrk", "/64k", 64),
    Scenario("h1_close", "HTTP/1.1 new connection per request (wrk, 64 connections, "
             "Connection: close)", "wrk", "/small", 64, headers=("Connection: close",)),
    Scenario("tls_small", "HTTPS (TLS 1.3, TLS_AES_128_GCM_SHA256) keep-alive, 12-byte "
             "response (wrk, 64 connections)", "wrk", "/small", 64, tls=True),
    Scenario("tls_close", "HTTPS new connection per request: a TLS 1.3 resumption handshake "
             "each (wrk, 64 connections, Connection: close)", "wrk", "/small", 64,
             headers=("Connection: close",), tls=True),
    Scenario("h2_small", "HTTP/2 downstream h2c, 12-byte response (h2load, 16 connections "
             "x 10 streams)", "h2load", "/small", 16, streams=10),
]


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def run(launcher, scenario, port, threads, duration_s, cpus, tag, tls_env=None):
    """Runs one measurement; returns requests, rps, latency percentiles (µs) and errors.
    `tls_env` is the load generator's environment for TLS scenarios (lib/tls.py)."""
    url = f"{'https' if scenario.tls else 'http'}://127.0.0.1:{port}{scenario.path}"
    if scenario.tool == "wrk":
        return _run_wrk(launcher, scenario, url, threads, duration_s, cpus,
                        tls_env if scenario.tls else None)
    return _run_h2load(launcher, scenario, url, threads, duration_s, cpus, tag)


def _run_wrk(launcher, scenario, url, threads, duration_s, cpus, env):
    argv = ["wrk", "-t", str(threads), "-c", str(scenario.connections), "-d", f"{duration_s}s",
            "--timeout", "2s", "-s", WRK_SCRIPT]
    for header in scenario.headers:
        argv += ["-H", header]
    argv.append(url)
    code, out = launcher.run("wrk", argv, cpus, timeout_s=duration_s + 30, env=env)
    line = next((l for l in out.splitlines() if l.startswith("WRK_JSON ")), None)
    if code != 0 or line is None:
        raise RuntimeError(f"wrk failed (exit {code}): {out[-500:]}")
    data = json.loads(line[len("WRK_JSON "):])
    requests = data["requests"]
    errors = data["errors"]
    return {
        "requests": requests,
        "duration_s": data["duration_us"] / 1e6,
        "rps": requests / (data["duration_us"] / 1e6),
        "latency_us": {k: data["latency_us"][k] for k in ("p50", "p90", "p99", "p99.9", "max")},
        "errors": sum(errors.values()),
        "error_detail": errors,
    }


def _count(pattern, text, default=0):
    match = re.search(pattern, text)
    return float(match.group(1)) if match else default


def _run_h2load(launcher, scenario, url, threads, duration_s, cpus, tag):
    log_path = os.path.join(launcher.run_dir, f"h2load-{tag}.tsv")
    argv = ["h2load", "-c", str(scenario.connections), "-m", str(scenario.streams),
            "-t", str(min(threads, scenario.connections)), "-D", str(duration_s),
            f"--log-file={log_path}", url]
    code, out = launcher.run("h2load", argv, cpus, timeout_s=duration_s + 30)
    if code != 0 or "requests:" not in out:
        raise RuntimeError(f"h2load failed (exit {code}): {out[-500:]}")
    latencies = []
    with open(log_path) as f:
        for line in f:
            columns = line.split("\t")
            if len(columns) >= 3:
                latencies.append(int(columns[2]))
    os.unlink(log_path)
    latencies.sort()
    done = int(_count(r"requests: \d+ total, \d+ started, (\d+) done", out))
    failed = int(_count(r"(\d+) failed", out))
    ok_statuses = int(_count(r"status codes: (\d+) 2xx", out))
    elapsed = _count(r"finished in ([\d.]+)s", out, default=duration_s)
    # done - 2xx are the non-2xx answers; failed are requests without one.
    errors = failed + max(0, done - ok_statuses)
    return {
        "requests": done,
        "duration_s": elapsed,
        "rps": done / elapsed if elapsed else 0.0,
        "latency_us": {name: percentile(latencies, p)
                       for name, p in (("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9))}
                      | {"max": latencies[-1] if latencies else None},
        "errors": errors,
        "error_detail": {"failed": failed, "non_2xx": max(0, done - ok_statuses)},
    }
