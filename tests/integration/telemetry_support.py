"""Helpers for the telemetry tests (stats, Prometheus, access logs, admin endpoints).

They read remora's admin endpoint, wait for access log lines, capture remora's stdout,
run promtool and a real Prometheus server. Everything listens on 127.0.0.1 and every
wait has a deadline.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import quote

from harness import LOOPBACK, Remora, free_port, http_request, remora_bin, wait_until
from http1 import IO_TIMEOUT_S, IncompleteMessage

FILE_LOG_TYPE = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"
STDOUT_LOG_TYPE = "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog"
HEALTH_CHECK_FILTER = {
    "name": "envoy.filters.http.health_check",
    "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck",
        "pass_through_mode": False,
        "headers": [{"name": ":path", "string_match": {"exact": "/healthz"}}],
    },
}
# A request llhttp (strict) rejects with 400: a header line without a colon.
MALFORMED_REQUEST = b"GET /bad HTTP/1.1\r\nHost: test\r\nthis line has no colon\r\n\r\n"
# Workers record a stream's stats and log line after its last byte is written, so
# the client can see the response a moment before /stats or the log file does.
SETTLE_TIMEOUT_S = 5.0


# ---------------------------------------------------------------- /stats


def stats(proxy: Remora, query: str = "") -> dict[str, int]:
    """Counters and gauges from /stats?format=json, by Envoy name."""
    response = proxy.admin("GET", "/stats?format=json" + (f"&{query}" if query else ""))
    assert response.status == 200, response.text
    return {s["name"]: s["value"] for s in json.loads(response.body)["stats"] if "value" in s}


def stat(proxy: Remora, name: str) -> int:
    """One counter or gauge by its Envoy name; fails unless exactly one has that name."""
    body = proxy.admin("GET", "/stats?format=json&filter=" + re.escape(name) + "$").text
    values = [s["value"] for s in json.loads(body)["stats"] if "value" in s and s["name"] == name]
    assert len(values) == 1, body
    return values[0]


def text_stats(proxy: Remora, query: str = "") -> dict[str, int]:
    """Counters and gauges from the text /stats (histogram lines left out)."""
    response = proxy.admin("GET", "/stats" + (f"?{query}" if query else ""))
    assert response.status == 200, response.text
    values = {}
    for line in response.text.splitlines():
        name, _, value = line.partition(": ")
        if value and re.fullmatch(r"-?\d+", value):
            values[name] = int(value)
    return values


def wait_for_stats(proxy: Remora, expected: dict[str, int],
                   timeout: float = SETTLE_TIMEOUT_S) -> dict[str, Optional[int]]:
    """Polls until every expected stat has its value, then returns what was read last
    for those names (missing ones as None), so the caller asserts equality once and a
    mismatch shows every difference."""
    seen: dict[str, Optional[int]] = {}

    def settled() -> bool:
        current = stats(proxy)
        seen.clear()
        seen.update({name: current.get(name) for name in expected})
        return seen == expected
    wait_until(settled, timeout, interval=0.05)
    return seen


# ---------------------------------------------------------------- Prometheus text


@dataclass(frozen=True)
class Sample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float

    def label(self, name: str) -> Optional[str]:
        return dict(self.labels).get(name)


@dataclass
class Exposition:
    types: dict[str, str]       # family -> type
    type_lines: list[str]       # families in the order of their # TYPE lines
    samples: list[Sample]
    sample_families: list[str]  # the family of each sample, in order
    under_type: list[str]       # for each sample, the family of the TYPE line above it


SAMPLE_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


def parse_labels(text: str) -> tuple[tuple[str, str], ...]:
    labels = []
    position = 0
    while position < len(text):
        match = LABEL.match(text, position)
        assert match, f"malformed labels {text!r} at {position}"
        labels.append((match.group(1), match.group(2)))
        position = match.end()
        if position < len(text):
            assert text[position] == ",", f"malformed labels {text!r}"
            position += 1
    return tuple(labels)


def parse_exposition(text: str) -> Exposition:
    """Parses text format 0.0.4 strictly enough to check how it is laid out."""
    exposition = Exposition({}, [], [], [], [])
    current = ""
    for line in text.splitlines():
        if not line or line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(" ")
            exposition.types[family] = kind
            exposition.type_lines.append(family)
            current = family
            continue
        assert not line.startswith("#"), f"unexpected comment {line!r}"
        match = SAMPLE_LINE.match(line)
        assert match, f"malformed sample line {line!r}"
        name, labels, value = match.groups()
        sample = Sample(name, parse_labels(labels or ""), float(value))
        exposition.samples.append(sample)
        family = name
        for suffix in HISTOGRAM_SUFFIXES:
            base = name[:-len(suffix)]
            if name.endswith(suffix) and exposition.types.get(base) == "histogram":
                family = base
        exposition.sample_families.append(family)
        exposition.under_type.append(current)
    return exposition


def scrape(proxy: Remora, query: str = "") -> Exposition:
    response = proxy.admin("GET", "/stats/prometheus" + (f"?{query}" if query else ""))
    assert response.status == 200, response.text
    return parse_exposition(response.text)


def prometheus_value(exposition: Exposition, name: str, **labels: str) -> Optional[float]:
    """The one sample called `name` whose labels include `labels`."""
    matches = [s.value for s in exposition.samples
               if s.name == name and all(s.label(k) == v for k, v in labels.items())]
    assert len(matches) <= 1, f"{len(matches)} samples of {name} {labels}"
    return matches[0] if matches else None


def bucket_bounds(exposition: Exposition, family: str, **labels: str) -> list[str]:
    """The `le` values of one histogram series, in order."""
    return [s.label("le") for s in exposition.samples
            if s.name == family + "_bucket"
            and all(s.label(k) == v for k, v in labels.items())]


# ---------------------------------------------------------------- promtool / Prometheus


def promtool_check_metrics(text: str) -> tuple[int, list[str]]:
    """`promtool check metrics` on the exposition: (exit code, reported lines)."""
    result = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                            capture_output=True, timeout=30, check=False)
    output = (result.stdout + result.stderr).decode(errors="replace")
    return result.returncode, [line for line in output.splitlines() if line.strip()]


PROMETHEUS_CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: remora
    metrics_path: /stats/prometheus
    static_configs:
      - targets: ["127.0.0.1:{admin_port}"]
"""


class PrometheusServer:
    """A real Prometheus server scraping one remora admin endpoint every second."""

    READY_TIMEOUT_S = 30.0

    def __init__(self, workdir: Path, admin_port: int):
        self.dir = workdir / f"prometheus-{id(self)}"
        self.dir.mkdir(parents=True)
        self.config_path = self.dir / "prometheus.yml"
        self.config_path.write_text(PROMETHEUS_CONFIG.replace("{admin_port}", str(admin_port)))
        self.log_path = self.dir / "prometheus.log"
        self.process: Optional[subprocess.Popen] = None
        self.port = 0

    def start(self) -> "PrometheusServer":
        for _ in range(3):  # the free port may be taken before Prometheus binds it
            self.port = free_port()
            data = self.dir / "data"
            shutil.rmtree(data, ignore_errors=True)
            with open(self.log_path, "wb") as log:
                self.process = subprocess.Popen(
                    ["prometheus", f"--config.file={self.config_path}",
                     f"--storage.tsdb.path={data}",
                     f"--web.listen-address={LOOPBACK}:{self.port}"],
                    stdout=log, stderr=subprocess.STDOUT, cwd=self.dir)
            if wait_until(lambda: self._ready() or self.process.poll() is not None,
                          self.READY_TIMEOUT_S, interval=0.1) and self.process.poll() is None:
                return self
            self.stop()
        raise RuntimeError("prometheus did not start:\n" + self.log_path.read_text()[-3000:])

    def _ready(self) -> bool:
        try:
            return self._get("/-/ready", timeout=1).status == 200
        except (OSError, IncompleteMessage, TimeoutError):
            return False

    def _get(self, path: str, timeout: float = IO_TIMEOUT_S):
        return http_request(self.port, "GET", path, host=f"{LOOPBACK}:{self.port}",
                            timeout=timeout)

    def query(self, promql: str) -> list[dict]:
        """An instant query's result vector."""
        response = self._get("/api/v1/query?query=" + quote(promql, safe=""))
        body = json.loads(response.body)
        assert (response.status, body["status"]) == (200, "success"), response.text
        assert body["data"]["resultType"] == "vector", body
        return body["data"]["result"]

    def wait_for_scrape_after(self, selector: str, after: float,
                              timeout: float = 15.0) -> bool:
        """Polls until the newest sample of every series of `selector` comes from a
        scrape that started after the Unix time `after`."""
        def fresh() -> bool:
            result = self.query(f"timestamp({selector})")
            return bool(result) and all(float(r["value"][1]) > after for r in result)
        return wait_until(fresh, timeout, interval=0.2)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def scalar_value(result: list[dict]) -> float:
    assert len(result) == 1, result
    return float(result[0]["value"][1])


def is_number(value: float) -> bool:
    return not math.isnan(value) and not math.isinf(value)


# ---------------------------------------------------------------- access logs


def file_access_log(path: Path, log_format: Optional[dict] = None,
                    filter: Optional[dict] = None) -> dict:
    """A config.accesslog.v3.AccessLog entry writing to `path`."""
    typed_config = {"@type": FILE_LOG_TYPE, "path": str(path)}
    if log_format is not None:
        typed_config["log_format"] = log_format
    entry = {"name": "envoy.access_loggers.file", "typed_config": typed_config}
    if filter is not None:
        entry["filter"] = filter
    return entry


def stdout_access_log(log_format: Optional[dict] = None) -> dict:
    typed_config = {"@type": STDOUT_LOG_TYPE}
    if log_format is not None:
        typed_config["log_format"] = log_format
    return {"name": "envoy.access_loggers.stdout", "typed_config": typed_config}


def read_lines(path: Path) -> list[str]:
    """Complete lines written so far (a line still being written is left out)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    return data.decode(errors="replace").split("\n")[:-1]


def wait_for_lines(path: Path, count: int, timeout: float = SETTLE_TIMEOUT_S) -> list[str]:
    """The file's lines once it has at least `count` (fewer after the timeout)."""
    wait_until(lambda: len(read_lines(path)) >= count, timeout, interval=0.02)
    return read_lines(path)


def lines_after_quiet(path: Path, count: int, quiet_s: float = 0.5) -> list[str]:
    """Waits for `count` lines, then for `quiet_s` more (several flush intervals), so a
    line that should not be there has had the time to appear."""
    wait_for_lines(path, count)
    time.sleep(quiet_s)
    return read_lines(path)


class StdoutCapturingRemora(Remora):
    """A Remora whose stdout goes to a file (the harness discards it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stdout_path = self.workdir / f"{self.name}.stdout"

    def _spawn(self) -> None:
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        with open(self.stderr_path, "wb") as err, open(self.stdout_path, "wb") as out:
            self.process = subprocess.Popen(
                [remora_bin(), "-c", str(self.config_path), "--concurrency",
                 str(self.concurrency), "--drain-time-s", str(self.drain_time_s), *self.args],
                stdout=out, stderr=err, env=env)


def start_capturing_stdout(factory, config: str, **options) -> StdoutCapturingRemora:
    """Like the `remora` fixture's factory call, but with stdout kept; the instance is
    checked (exit code, sanitizer report) with the factory's others after the test."""
    instance = StdoutCapturingRemora(config, factory.workdir, **options)
    factory.instances.append(instance)
    return instance.start()


def with_top_level(config: str, extra: dict) -> str:
    """Adds top-level bootstrap fields (stats_config, node, ...) to a harness config."""
    return config + "".join(f"{key}: {json.dumps(value)}\n" for key, value in extra.items())
