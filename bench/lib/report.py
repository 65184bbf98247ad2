"""Aggregation across rounds and the three outputs: JSON, Markdown and a gnuplot PNG."""

import json
import os
import statistics
import subprocess

from .load import SCENARIOS

SHORT_TITLES = {
    "h1_small": "HTTP/1.1 keep-alive, 12 B",
    "h1_64k": "HTTP/1.1 keep-alive, 64 KiB",
    "h1_close": "HTTP/1.1 connection per request",
    "h2_small": "HTTP/2 (h2c), 12 B",
    "tls_small": "HTTPS keep-alive, 12 B",
    "tls_close": "HTTPS connection per request",
}
RATIO_PEERS = ["nginx", "haproxy", "nghttpx", "remora-base"]
# What the ratios table compares, from one measurement.
RATIO_FIGURES = {
    "cpu_per_request": lambda m: m["proxy_cpu_us_per_request"],
    "user_cpu_per_request": lambda m: m.get("proxy_user_us_per_request"),
    "system_cpu_per_request": lambda m: m.get("proxy_system_us_per_request"),
    "p99": lambda m: m["latency_us"]["p99"],
}


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def aggregate(measurements, workers_list, scenario_keys, target_names):
    """One summary per (workers, scenario, target): medians over the rounds."""
    summaries = []
    for workers in workers_list:
        for scenario in scenario_keys:
            for target in target_names:
                rows = [m for m in measurements if (m["workers"], m["scenario"], m["target"])
                        == (workers, scenario, target)]
                if rows:
                    summaries.append(_summarise(workers, scenario, target, rows))
    return summaries


def _summarise(workers, scenario, target, rows):
    summary = {"workers": workers, "scenario": scenario, "target": target, "rounds": len(rows)}
    na = [r for r in rows if r["status"] == "n/a"]
    failed = [r for r in rows if r["status"] == "failed"]
    if na:
        return summary | {"status": "n/a", "note": na[0]["note"]}
    if failed:
        return summary | {"status": "failed", "note": failed[0]["note"]}
    errors = sum(r["errors"] for r in rows)
    if errors:
        return summary | {"status": "invalid", "errors": errors}
    rps = [r["rps"] for r in rows]
    median_rps = _median(rps)
    return summary | {
        "status": "ok",
        "rps": median_rps,
        "rps_spread_pct": (max(rps) - min(rps)) / median_rps * 100 if median_rps else None,
        "latency_us": {p: _median([r["latency_us"][p] for r in rows])
                       for p in ("p50", "p99", "p99.9")},
        "proxy_cpu_us_per_request": _median([r["proxy_cpu_us_per_request"] for r in rows]),
        "upstream_cpu_us_per_request": _median([r["upstream_cpu_us_per_request"] for r in rows]),
        "peak_rss_kib": max((r["peak_rss_kib"] for r in rows), default=None)
        if target != "direct" else None,
    }


def ratios(measurements, workers_list, scenario_keys):
    """Remora / peer for CPU per request and p99, per round (both measured in the same
    round, minutes apart at most), then the median over rounds."""
    by_key = {(m["workers"], m["scenario"], m["target"], m["round"]): m for m in measurements}
    out = []
    for workers in workers_list:
        for scenario in scenario_keys:
            for peer in RATIO_PEERS:
                series = {key: [] for key in RATIO_FIGURES}
                for (w, s, t, rnd), remora in by_key.items():
                    if (w, s, t) != (workers, scenario, "remora"):
                        continue
                    other = by_key.get((w, s, peer, rnd))
                    if not (_valid(remora) and _valid(other)):
                        continue
                    for key, figure in RATIO_FIGURES.items():
                        mine, theirs = figure(remora), figure(other)
                        if mine is not None and theirs:
                            series[key].append(mine / theirs)
                if any(series.values()):
                    out.append({"workers": workers, "scenario": scenario, "peer": peer,
                                "rounds": max(len(v) for v in series.values())}
                               | {key: _median(v) for key, v in series.items()})
    return out


def _valid(m):
    return m is not None and m["status"] == "ok" and m["errors"] == 0


def write_json(path, document):
    with open(path, "w") as f:
        json.dump(document, f, indent=1)
        f.write("\n")


def _ms(us):
    if us is None:
        return "—"
    ms = us / 1000
    return f"{ms:.2f}" if ms < 10 else f"{ms:.1f}"


def _num(value, fmt):
    return "—" if value is None else format(value, fmt)


def _spread(summary):
    if summary["rounds"] < 2 or summary["rps_spread_pct"] is None:
        return "—"
    return f"{summary['rps_spread_pct']:.0f}%"


def _ratio(value):
    return "—" if value is None else f"{value:.2f}×"


def markdown(doc):
    machine = doc["machine"]
    lines = [
        f"# Load benchmark results ({doc['started_at']})",
        "",
        f"- Machine: {machine['nproc']} CPUs ({machine['cpu_model']}), kernel "
        f"{machine['kernel']}, {machine['mem_total_mib']} MiB RAM",
        f"- Load average before / after the run: {machine['loadavg_before']} / "
        f"{machine['loadavg_after']} (other work on the machine shows up here)",
        f"- Command: `{doc['command']}` ({doc['settings']['rounds']} interleaved round(s) of "
        f"{doc['settings']['duration_s']} s per target and scenario, wall time "
        f"{doc['wall_time_s']:.0f} s)",
        f"- Remora: `{doc['versions'].get('remora', '?')}`, binary {doc['remora_binary']} "
        f"built {doc['remora_binary_built']}; repository at {doc['versions'].get('git', '?')}",
        "- Peers: " + ", ".join(f"{k} {doc['versions'][k]}" for k in
                                ("nginx", "haproxy", "nghttpx", "wrk", "h2load")
                                if k in doc["versions"]),
    ]
    if doc.get("remora_baseline"):
        lines.append(f"- remora-base: the baseline binary {doc['remora_baseline']}, measured in "
                     "the same rounds")
    tls = doc["settings"].get("tls")
    if tls and any(s.startswith("tls_") for s in doc["settings"]["scenarios"]):
        lines.append(f"- TLS: {tls['protocol']}, {tls['cipher_suite']} (the only suite the "
                     f"client offers), {tls['key']} certificate, default session tickets; "
                     "wrk resumes its session on every new connection (PSK with ECDHE: no "
                     "certificate or signature after the first)")
    for workers, layout in doc["cpu_layout"].items():
        lines.append(f"- CPUs with {workers} worker(s): proxy {layout['proxy']}, upstream "
                     f"{layout['upstream']}, load generator {layout['loadgen']} — "
                     f"{layout['isolation']}")
    lines += ["", "Figures are medians over the rounds; \"spread\" is (max − min) / median of "
              "req/s across rounds. Latency is measured by the load generator (ms). Proxy CPU "
              "is user + system time of all the proxy's processes and threads divided by "
              "requests.", ""]
    summaries = doc["summary"]
    for scenario in doc["settings"]["scenarios"]:
        title = next(s.title for s in SCENARIOS if s.key == scenario)
        lines += [f"## {title}", "",
                  "| Target | Workers | req/s | spread | p50 | p99 | p99.9 | Proxy CPU µs/req "
                  "| Peak RSS MiB |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for s in summaries:
            if s["scenario"] != scenario:
                continue
            head = f"| {s['target']} | {s['workers']} |"
            if s["status"] == "ok":
                lat = s["latency_us"]
                rss = None if s["peak_rss_kib"] is None else s["peak_rss_kib"] / 1024
                lines.append(
                    f"{head} {s['rps']:,.0f} | {_spread(s)} | "
                    f"{_ms(lat['p50'])} | {_ms(lat['p99'])} | {_ms(lat['p99.9'])} | "
                    f"{_num(s['proxy_cpu_us_per_request'], '.1f')} | {_num(rss, '.1f')} |")
            else:
                text = {"n/a": s.get("note"), "failed": f"failed: {s.get('note')}",
                        "invalid": f"invalid ({s.get('errors')} errors)"}[s["status"]]
                lines.append(f"{head} {text} | | | | | | |")
        lines.append("")
    if doc["ratios"]:
        lines += ["## Remora relative to its peers", "",
                  "Median over rounds of (Remora / peer) measured in the same round; below "
                  "1.00× Remora uses less CPU per request or has a lower p99. CPU per "
                  "request is also split into user time (the proxy's own code) and system "
                  "time (the kernel's work for its system calls).", "",
                  "| Scenario | Workers | Peer | CPU per request | user | system | p99 |",
                  "|---|---:|---|---:|---:|---:|---:|"]
        for r in doc["ratios"]:
            lines.append(f"| {SHORT_TITLES[r['scenario']]} | {r['workers']} | {r['peer']} | "
                         f"{_ratio(r['cpu_per_request'])} | "
                         f"{_ratio(r.get('user_cpu_per_request'))} | "
                         f"{_ratio(r.get('system_cpu_per_request'))} | {_ratio(r['p99'])} |")
        lines.append("")
    mem = doc.get("memory")
    if mem:
        lines += ["## Memory", "",
                  f"Each proxy freshly started with {mem['workers']} workers; idle RSS after "
                  f"{mem['settle_s']:.0f} s, then {mem['connections_requested']:,} keep-alive "
                  "connections each serving one GET /small and left idle.", "",
                  "| Target | Idle RSS MiB | Connections held | RSS growth per connection |",
                  "|---|---:|---:|---:|"]
        for name, m in mem["targets"].items():
            if "error" in m:
                lines.append(f"| {name} | failed: {m['error']} | | |")
                continue
            per = m["bytes_per_connection"]
            lines.append(f"| {name} | {m['idle_rss_kib'] / 1024:.1f} | {m['connections']:,} | "
                         f"{'—' if per is None else f'{per / 1024:.2f} KiB'} |")
        side = mem.get("remora_sidecar")
        if side:
            lines += ["", "Remora with `config/examples/sidecar.yaml` (2 listeners, 4 clusters; "
                      "ports moved to free loopback ports), `--concurrency "
                      f"{side['workers']}`, idle: "
                      + (f"{side['rss_kib'] / 1024:.1f} MiB RSS, {side['threads']} threads."
                         if "rss_kib" in side else f"failed: {side['error']}")]
        lines.append("")
    if not doc["peak_rss_reset"]:
        lines += ["Note: the kernel refused to reset VmHWM, so peak RSS spans the whole run "
                  "rather than one measurement.", ""]
    return "\n".join(lines)


def _value(summary, getter):
    if summary is None or summary["status"] != "ok":
        return "?"
    value = getter(summary)
    return "?" if value is None else f"{value:.4g}"


def plot(doc, png_path, work_dir):
    """Latency percentiles and CPU per request, one row of panels per scenario."""
    summaries = {(s["workers"], s["scenario"], s["target"]): s for s in doc["summary"]}
    workers_list = doc["settings"]["workers"][:2]
    targets = doc["settings"]["targets"]
    scenarios = doc["settings"]["scenarios"]
    script = [
        f"set terminal pngcairo size 1500,{330 * len(scenarios) + 60} font 'sans,9'",
        f"set output '{png_path}'",
        "set style data histograms",
        "set style histogram clustered gap 1",
        "set style fill solid 0.85 border -1",
        "set boxwidth 0.9",
        "set datafile missing '?'",
        "set grid ytics",
        "set key top left",
        "set yrange [0:*]",
        f"set multiplot layout {len(scenarios)},{len(workers_list) + 1} title "
        f"'Remora load benchmark {doc['started_at']} (medians of {doc['settings']['rounds']} "
        "round(s); lower is better)'",
    ]
    for scenario in scenarios:
        missing = sorted({s["target"] for s in doc["summary"]
                          if s["scenario"] == scenario and s["status"] != "ok"})
        title = SHORT_TITLES[scenario] + (f" [no figures: {', '.join(missing)}]"
                                          if missing else "")
        # Columns: target, then p50 p99 p99.9 (ms) per worker count, then CPU per worker count.
        rows = []
        for target in targets:
            cells = [target]
            for w in workers_list:
                s = summaries.get((w, scenario, target))
                cells += [_value(s, lambda s, p=p: s["latency_us"][p] / 1000)
                          for p in ("p50", "p99", "p99.9")]
            cells += [_value(summaries.get((w, scenario, target)),
                             lambda s: s["proxy_cpu_us_per_request"]) for w in workers_list]
            rows.append(cells)
        data = os.path.join(work_dir, f"plot-{scenario}.dat")
        with open(data, "w") as f:
            f.writelines(" ".join(r) + "\n" for r in rows)

        def series(column_titles):
            parts = []
            for column, label in column_titles:
                if any(r[column - 1] != "?" for r in rows):
                    source = f"'{data}'" if not parts else "''"
                    xtic = ":xtic(1)" if not parts else ""
                    parts.append(f"{source} using {column}{xtic} title '{label}'")
            return parts

        for i, w in enumerate(workers_list):
            script.append(f"set title '{title}: latency (ms), {w} worker(s)'")
            parts = series([(2 + 3 * i + k, p) for k, p in enumerate(("p50", "p99", "p99.9"))])
            script.append("plot " + ", ".join(parts) if parts else "set multiplot next")
        script.append(f"set title '{title}: proxy CPU per request (µs)'")
        parts = series([(2 + 3 * len(workers_list) + i, f"{w} worker(s)")
                        for i, w in enumerate(workers_list)])
        script.append("plot " + ", ".join(parts) if parts else "set multiplot next")
    script.append("unset multiplot")
    script_path = os.path.join(work_dir, "plot.gp")
    with open(script_path, "w") as f:
        f.write("\n".join(script) + "\n")
    result = subprocess.run(["gnuplot", script_path], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"gnuplot failed: {result.stderr[-500:]}")
