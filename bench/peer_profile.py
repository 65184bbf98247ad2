#!/usr/bin/env python3
"""Where a proxied request's CPU goes, for Remora and the peers, by counts that do not
drift with the machine's load: user-space instructions per request (valgrind
--tool=callgrind) and system calls per request (strace -c).

    bench/peer_profile.py --remora build/release/proxy/remora [--targets remora,nginx,haproxy]

Each target runs with one worker and the configs of bench/run.sh in front of the bench
upstream. Instructions: the target runs under callgrind, is warmed up with 2,000
keep-alive requests (h2load --h1, 4 connections), its counters are zeroed, and the next
--requests requests are counted (callgrind_control -z / -d). System calls: the target
runs natively under strace -c -f for --requests requests over 64 connections.
"""

import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)

from lib import procs, targets, tls  # noqa: E402

WARM_UP_REQUESTS = 2000


def h2load(port, requests, connections):
    out = subprocess.run(["h2load", "--h1", "-n", str(requests), "-c", str(connections),
                          "-t", "1", f"http://127.0.0.1:{port}/small"],
                         capture_output=True, text=True, timeout=600).stdout
    if f"{requests} succeeded, 0 failed, 0 errored" not in out:
        sys.exit(f"requests failed:\n{out}")


def single_process_argv(target, upstream):
    argv = target.command(1, upstream)
    # nginx without its master process: the worker is the process valgrind runs.
    return argv + ["-g", "master_process off;"] if target.name == "nginx" else argv


def instructions_per_request(launcher, target, upstream, requests, run_dir):
    out_prefix = os.path.join(run_dir, f"callgrind.{target.name}")
    argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_prefix}.%p"]
    argv += single_process_argv(target, upstream)
    proc = launcher.start(f"{target.name}-callgrind", argv)
    try:
        targets.wait_until_serving(target.port, proc, target.name, launcher, timeout_s=60)
        h2load(target.port, WARM_UP_REQUESTS, 4)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], capture_output=True, check=True)
        h2load(target.port, requests, 4)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], capture_output=True, check=True)
        time.sleep(1)
        newest = max(glob.glob(f"{out_prefix}.{proc.pid}.*"), key=os.path.getmtime)
        with open(newest) as f:
            totals = next(int(line.split()[1]) for line in f if line.startswith("summary:"))
        return totals / requests
    finally:
        launcher.stop(proc)


def syscalls_per_request(launcher, target, upstream, requests, run_dir):
    target.start(1, None, upstream)
    try:
        h2load(target.port, WARM_UP_REQUESTS, 64)
        tids = [t for pid in target.pids() for t in os.listdir(f"/proc/{pid}/task")]
        summary = os.path.join(run_dir, f"strace.{target.name}")
        argv = ["strace", "-c", "-f", "-o", summary] + [a for t in tids for a in ("-p", t)]
        tracer = subprocess.Popen(argv, stderr=subprocess.DEVNULL)
        time.sleep(1)
        h2load(target.port, requests, 64)
        time.sleep(0.5)
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=30)
        calls = {}
        with open(summary) as f:
            for line in f:
                m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", line)
                if m and m.group(2) != "total":
                    calls[m.group(2)] = int(m.group(1)) / requests
        return {name: n for name, n in calls.items() if n >= 0.05}
    finally:
        target.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--remora", required=True)
    p.add_argument("--targets", default="remora,nginx,haproxy")
    p.add_argument("--requests", type=int, default=10000)
    args = p.parse_args()
    for tool in ("valgrind", "callgrind_control", "strace", "h2load", "nginx"):
        if not shutil.which(tool):
            sys.exit(f"missing tool: {tool}")
    run_dir = tempfile.mkdtemp(prefix="remora-peer-profile.")
    os.chmod(run_dir, 0o755)
    launcher = procs.Launcher(run_dir)
    material = tls.Material(run_dir)
    rows = []
    try:
        upstream = targets.Upstream(launcher, material)
        upstream.start(1, None)
        for target in targets.make_targets(launcher, material, os.path.abspath(args.remora),
                                           args.targets.split(",")):
            ir = instructions_per_request(launcher, target, upstream, args.requests, run_dir)
            calls = syscalls_per_request(launcher, target, upstream, args.requests, run_dir)
            rows.append((target.name, ir, calls))
            print(f"{target.name}: {ir:,.0f} instructions, {sum(calls.values()):.2f} system "
                  "calls per request", flush=True)
    finally:
        launcher.stop_all()
        shutil.rmtree(run_dir, ignore_errors=True)
    print(f"\n{args.requests} keep-alive requests for GET /small, 1 worker\n")
    print("| Target | Instructions per request (user space) | System calls per request |")
    print("|---|---:|---|")
    for name, ir, calls in rows:
        listed = ", ".join(f"{n} {c:.2f}" for n, c in sorted(calls.items(), key=lambda x: -x[1]))
        print(f"| {name} | {ir:,.0f} | {sum(calls.values()):.2f} ({listed}) |")


if __name__ == "__main__":
    main()
