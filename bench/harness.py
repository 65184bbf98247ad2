#!/usr/bin/env python3
"""Runs the load comparison (Remora, nginx, HAProxy, nghttpx and the direct floor) on
loopback and writes JSON, Markdown and a PNG. Started by bench/run.sh, which installs
the tools, builds Remora and cleans up; see bench/README.md.

Never a pass/fail: exits 0 whatever the figures say, non-zero only if it could not run.
"""

import argparse
import datetime
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import load, memory, procs, report, targets, tls  # noqa: E402

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
SETTLE_BETWEEN_RUNS_S = 0.3


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--remora", required=True, help="path to the remora binary")
    p.add_argument("--baseline", help="another remora binary, measured in the same rounds as "
                   "target remora-base (before/after ratios)")
    p.add_argument("--quick", action="store_true",
                   help="1 round of 2 s, 2,000 idle connections (about 3.5 minutes); writes "
                        "results/quick.* instead of results/latest.*")
    p.add_argument("--duration", type=int, help="seconds per measurement (default 4, quick 2)")
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 3, quick 1)")
    p.add_argument("--workers", default="1,2", help="worker counts, comma separated")
    p.add_argument("--scenarios", default=",".join(s.key for s in load.SCENARIOS))
    p.add_argument("--targets", default=",".join(targets.ALL_TARGETS))
    p.add_argument("--idle-connections", type=int,
                   help="connections for the per-connection memory test (default 9000, "
                        "quick 2000)")
    p.add_argument("--no-memory", action="store_true", help="skip the memory tests")
    p.add_argument("--out", default=os.path.join(BENCH_DIR, "results"))
    p.add_argument("--run-dir", help="scratch directory (configs, logs); default a temp dir")
    p.add_argument("--command", help="the command line to record in the results")
    p.add_argument("--no-publish", action="store_true",
                   help="do not rewrite bench/RESULTS.md (a full run does by default)")
    args = p.parse_args()
    args.duration = args.duration or (2 if args.quick else 4)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.idle_connections = args.idle_connections or (2000 if args.quick else 9000)
    args.workers = [int(w) for w in args.workers.split(",")]
    args.scenarios = args.scenarios.split(",")
    args.targets = args.targets.split(",")
    known = {s.key for s in load.SCENARIOS}
    if set(args.scenarios) - known or set(args.targets) - set(targets.ALL_TARGETS):
        p.error(f"scenarios are {sorted(known)}, targets are {targets.ALL_TARGETS}")
    if args.baseline:
        args.baseline = os.path.abspath(args.baseline)
        args.targets.insert(args.targets.index("remora") + 1 if "remora" in args.targets else 0,
                            targets.BASELINE_TARGET)
    return args


def cpu_layout(workers):
    """Which CPUs the proxy, the upstream and the load generator run on. Isolation needs
    workers + 2 CPUs; with fewer, the upstream and the load generator share what is left
    (or the last CPU, which the proxy then also uses)."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= workers + 2:
        proxy, rest = cpus[:workers], cpus[workers:]
        upstream = rest[: max(1, len(rest) // 2)]
        loadgen = rest[len(upstream):]
        isolation = "each on its own CPUs"
    elif len(cpus) > workers:
        proxy, upstream = cpus[:workers], cpus[workers:]
        loadgen = upstream
        isolation = "proxy alone; upstream and load generator share their CPUs"
    else:
        proxy, upstream = cpus, cpus[-1:]
        loadgen = upstream
        isolation = ("no isolation: too few CPUs, the proxy's workers share a CPU with "
                     "the upstream and the load generator")
    return {"proxy": proxy, "upstream": upstream, "loadgen": loadgen, "isolation": isolation}


def machine_info():
    model = "?"
    mem_kib = 0
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {"nproc": os.cpu_count(), "cpus_allowed": len(os.sched_getaffinity(0)),
            "cpu_model": model, "kernel": platform.release(), "mem_total_mib": mem_kib // 1024,
            "loadavg_before": loadavg(), "clock_ticks_per_s": procs.CLOCK_TICKS_PER_SECOND}


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def tool_versions(remora_binary):
    def first_line(argv, pattern=None):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return "?"
        text = (r.stdout + r.stderr).strip()
        if pattern:
            m = re.search(pattern, text)
            return m.group(1) if m else "?"
        return text.splitlines()[0] if text else "?"

    versions = {
        "remora": first_line([remora_binary, "--version"]),
        "nginx": first_line(["nginx", "-v"], r"nginx/(\S+)"),
        "haproxy": first_line(["haproxy", "-v"], r"version (\S+)"),
        "nghttpx": first_line(["nghttpx", "--version"], r"nghttp2/(\S+)"),
        "wrk": first_line(["wrk", "-v"], r"wrk (\S+)"),
        "h2load": first_line(["h2load", "--version"], r"nghttp2/(\S+)"),
    }
    commit = first_line(["git", "-C", REPO_DIR, "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", REPO_DIR, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    versions["git"] = commit + (" with uncommitted changes" if dirty else "")
    return versions


def raise_fd_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # The harness holds the client ends; the proxy (its own limit) holds the others.
    return min(needed, hard - 200) if hard != resource.RLIM_INFINITY else needed


def measure(launcher, target, upstream, scenario, layout, args, workers, rnd):
    record = {"workers": workers, "round": rnd, "scenario": scenario.key, "target": target.name}
    if scenario.tool == "h2load" and target.h2_unsupported:
        return record | {"status": "n/a", "note": target.h2_unsupported}
    if scenario.tls and target.tls_unsupported:
        return record | {"status": "n/a", "note": target.tls_unsupported}
    if not target.alive():
        return record | {"status": "failed", "note": "not running"}
    port = (target.tls_port if scenario.tls
            else target.h2_port if scenario.tool == "h2load" else target.port)
    pids, upstream_pids = target.pids(), upstream.pids()
    reset_ok = procs.reset_peak_rss(pids)
    (user_before, system_before), up_before = (procs.cpu_ticks_split(pids),
                                               procs.cpu_ticks(upstream_pids))
    try:
        result = load.run(launcher, scenario, port, len(layout["loadgen"]), args.duration,
                          layout["loadgen"], f"{target.name}-w{workers}-r{rnd}",
                          args.tls_material.client_env())
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        return record | {"status": "failed", "note": str(e)[:200]}
    pids = target.pids()  # nginx may have replaced a worker
    user_after, system_after = procs.cpu_ticks_split(pids)
    user_us = procs.ticks_to_us(user_after - user_before)
    system_us = procs.ticks_to_us(system_after - system_before)
    cpu_us = user_us + system_us
    up_us = procs.ticks_to_us(procs.cpu_ticks(upstream.pids()) - up_before)
    requests = result["requests"]
    record |= result | {
        "status": "ok" if target.alive() else "failed",
        "note": "" if target.alive() else "exited during the run",
        "proxy_cpu_us_per_request": cpu_us / requests if pids and requests else None,
        # The split shows where a difference lies: the proxy's own code (user) or the
        # kernel's work for its system calls (system).
        "proxy_user_us_per_request": user_us / requests if pids and requests else None,
        "proxy_system_us_per_request": system_us / requests if pids and requests else None,
        "upstream_cpu_us_per_request": up_us / requests if requests else None,
        "peak_rss_kib": procs.memory_kib(pids, "VmHWM") if pids else None,
        "peak_rss_reset": reset_ok,
    }
    return record


def describe(m):
    if m["status"] != "ok":
        return m.get("note") if m["status"] == "n/a" else f"{m['status']}: {m.get('note', '')}"
    if m["errors"]:
        return f"invalid ({m['errors']} errors: {m['error_detail']})"
    cpu = m["proxy_cpu_us_per_request"]
    return (f"{m['rps']:>9,.0f} req/s  p99 {m['latency_us']['p99'] / 1000:6.2f} ms  "
            f"cpu {'—' if cpu is None else f'{cpu:.1f}'} µs/req")


def warm_up(launcher, args, target, layout):
    """1 s of keep-alive load per protocol measured: upstream pools, caches, page faults."""
    warmups = [load.SCENARIOS[0]]
    if target.tls_port is not None and any(s.tls for s in load.SCENARIOS
                                           if s.key in args.scenarios):
        warmups.append(next(s for s in load.SCENARIOS if s.tls))
    for scenario in warmups:
        port = target.tls_port if scenario.tls else target.port
        try:
            load.run(launcher, scenario, port, len(layout["loadgen"]), 1, layout["loadgen"],
                     "warmup", args.tls_material.client_env())
        except RuntimeError as e:
            print(f"  warm-up of {target.name} ({scenario.key}) failed: {e}", flush=True)


def run_load_phase(launcher, args, layouts):
    measurements = []
    scenarios = [s for s in load.SCENARIOS if s.key in args.scenarios]
    for workers in args.workers:
        layout = layouts[workers]
        upstream = targets.Upstream(launcher, args.tls_material)
        upstream.start(len(layout["upstream"]), layout["upstream"])
        under_test = targets.make_targets(launcher, args.tls_material, args.remora, args.targets,
                                          args.baseline)
        start_failures = {}
        for target in under_test:
            try:
                target.start(workers, layout["proxy"], upstream)
            except targets.StartError as e:
                start_failures[target.name] = str(e).splitlines()[0]
                print(f"  {target.name} did not start: {e}", flush=True)
        for target in under_test:
            if target.alive():
                warm_up(launcher, args, target, layout)
        for rnd in range(1, args.rounds + 1):
            # Rotating the order keeps any drift from always favouring one target.
            shift = (rnd - 1) % len(under_test)
            order = under_test[shift:] + under_test[:shift]
            for scenario in scenarios:
                for target in order:
                    m = measure(launcher, target, upstream, scenario, layout, args, workers, rnd)
                    if target.name in start_failures:
                        m |= {"status": "failed", "note": start_failures[target.name]}
                    measurements.append(m)
                    print(f"[{workers}w r{rnd}/{args.rounds}] {scenario.key:9} "
                          f"{target.name:8} {describe(m)}", flush=True)
                    time.sleep(SETTLE_BETWEEN_RUNS_S)
        for target in under_test:
            target.stop()
        upstream.stop()
    return measurements


def run_memory_phase(launcher, args, layouts):
    workers = 2
    layout = layouts.get(workers) or cpu_layout(workers)
    connections = raise_fd_limit(args.idle_connections)
    result = {"workers": workers, "settle_s": memory.SETTLE_S,
              "connections_requested": connections, "targets": {}}
    upstream = targets.Upstream(launcher, args.tls_material)
    upstream.start(len(layout["upstream"]), layout["upstream"])
    try:
        for target in targets.make_targets(launcher, args.tls_material, args.remora,
                                           args.targets, args.baseline):
            if target.name == "direct":
                continue
            try:
                target.start(workers, layout["proxy"], upstream)
                time.sleep(memory.SETTLE_S)
                idle = procs.memory_kib(target.pids(), "VmRSS")
                cost = memory.connection_cost(target, connections)
                result["targets"][target.name] = {"idle_rss_kib": idle} | cost
                print(f"[memory] {target.name:8} idle {idle / 1024:.1f} MiB, "
                      f"{cost['connections']} conns: "
                      f"{(cost['bytes_per_connection'] or 0) / 1024:.2f} KiB each", flush=True)
            except (targets.StartError, OSError) as e:
                result["targets"][target.name] = {"error": str(e).splitlines()[0]}
            finally:
                target.stop()
    finally:
        upstream.stop()
    if "remora" in args.targets:
        try:
            result["remora_sidecar"] = memory.remora_sidecar_idle(
                launcher, args.remora, os.path.join(REPO_DIR, "config/examples/sidecar.yaml"))
            print(f"[memory] remora sidecar.yaml idle "
                  f"{result['remora_sidecar']['rss_kib'] / 1024:.1f} MiB", flush=True)
        except (RuntimeError, OSError) as e:
            result["remora_sidecar"] = {"workers": workers, "error": str(e).splitlines()[0]}
    return result


def preflight(args):
    missing = [t for t in ("nginx", "wrk", "h2load", "gnuplot", "openssl")
               if not shutil.which(t)]
    missing += [t for t in ("haproxy", "nghttpx") if t in args.targets and not shutil.which(t)]
    if missing:
        sys.exit(f"missing tools: {', '.join(missing)} (run bench/install-deps.sh)")
    if not os.access(args.remora, os.X_OK):
        sys.exit(f"no Remora binary at {args.remora} (build it with scripts/build.sh release)")


def main():
    args = parse_args()
    args.remora = os.path.abspath(args.remora)
    preflight(args)
    # SIGTERM unwinds like Ctrl-C so every started process is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    own_run_dir = args.run_dir is None
    run_dir = args.run_dir or tempfile.mkdtemp(prefix="remora-bench.")
    os.chmod(run_dir, 0o755)
    launcher = procs.Launcher(run_dir)
    args.tls_material = tls.Material(run_dir)
    started = time.monotonic()
    doc = {"started_at": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
           "command": args.command or " ".join(sys.argv),
           "machine": machine_info(), "versions": tool_versions(args.remora),
           "remora_binary": os.path.relpath(args.remora, REPO_DIR)
           if args.remora.startswith(REPO_DIR) else args.remora,
           "remora_binary_built": datetime.datetime.fromtimestamp(
               os.path.getmtime(args.remora)).strftime("%Y-%m-%d %H:%M"),
           "remora_baseline": args.baseline,
           "settings": {"duration_s": args.duration, "rounds": args.rounds,
                        "workers": args.workers, "scenarios": args.scenarios,
                        "targets": args.targets, "quick": args.quick,
                        "tls": {"protocol": tls.PROTOCOL, "cipher_suite": tls.CIPHER_SUITE,
                                "key": tls.KEY_TYPE}}}
    layouts = {w: cpu_layout(w) for w in args.workers}
    doc["cpu_layout"] = {str(w): layouts[w] for w in args.workers}
    raise_fd_limit(0)
    try:
        measurements = run_load_phase(launcher, args, layouts)
        doc["memory"] = None if args.no_memory else run_memory_phase(launcher, args, layouts)
    except targets.StartError as e:  # only the upstream is fatal
        sys.exit(f"could not run: {e}")
    finally:
        launcher.stop_all()
        if own_run_dir:
            shutil.rmtree(run_dir, ignore_errors=True)
    doc["machine"]["loadavg_after"] = loadavg()
    doc["wall_time_s"] = time.monotonic() - started
    doc["peak_rss_reset"] = all(m.get("peak_rss_reset", True) for m in measurements)
    doc["summary"] = report.aggregate(measurements, args.workers, args.scenarios, args.targets)
    doc["ratios"] = report.ratios(measurements, args.workers, args.scenarios)
    doc["measurements"] = measurements

    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, "quick" if args.quick else "latest")
    report.write_json(stem + ".json", doc)
    text = report.markdown(doc)
    with open(stem + ".md", "w") as f:
        f.write(text)
    with tempfile.TemporaryDirectory() as plot_dir:
        try:
            report.plot(doc, os.path.abspath(stem + ".png"), plot_dir)
        except RuntimeError as e:
            print(f"no plot: {e}", file=sys.stderr)
    if not args.quick and not args.no_publish:
        with open(os.path.join(BENCH_DIR, "RESULTS.md"), "w") as f:
            f.write(text.replace("# Load benchmark results", "# Latest load benchmark results", 1)
                    + "\nJSON: [results/latest.json](results/latest.json), plot: "
                      "[results/latest.png](results/latest.png). How to read these figures: "
                      "[README.md](README.md).\n")
            # Hand-kept: micro benchmark figures and the before/after history.
            with open(os.path.join(BENCH_DIR, "HISTORY.md")) as history:
                f.write("\n" + history.read())
    print(text)
    print(f"wrote {stem}.json, {stem}.md, {stem}.png")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # everything started has been stopped by then
        sys.exit("interrupted")
