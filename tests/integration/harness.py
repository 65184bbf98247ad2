"""Harness for Remora's integration tests.

It starts the real `remora` binary (REMORA_BIN) on a generated config, real upstream
servers (a programmable raw-socket HTTP/1.1 server, a TCP echo server, nginx) and
talks to it with real clients (curl) and raw sockets. Everything listens on
127.0.0.1 only, and every loop and wait has a deadline.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import string
import subprocess
import time
from pathlib import Path
from typing import Iterable, Optional

# The harness is the tests' one import: it re-exports the clients and servers.
from http1 import (IO_TIMEOUT_S, LOOPBACK, HttpClient, IncompleteMessage, Response,
                   SocketReader, build_request, build_response, curl, exchange, free_port,
                   http_request, wait_until)
from servers import (EchoServer, Nginx, UpstreamServer, close_mid_body, close_without_response,
                     delayed, echo_path, never_answer, respond, respond_chunked, send_garbage,
                     switch_protocols_and_echo)

__all__ = [
    # http1
    "LOOPBACK", "HttpClient", "SocketReader", "build_request", "build_response", "curl",
    "exchange", "free_port", "http_request", "wait_until",
    # servers
    "EchoServer", "Nginx", "UpstreamServer", "close_mid_body", "close_without_response",
    "delayed", "echo_path", "never_answer", "respond", "respond_chunked", "send_garbage",
    "switch_protocols_and_echo",
    # this module
    "REPO_ROOT", "ROUTER_FILTER", "UUID4", "Remora", "bootstrap", "http_listener",
    "pattern_bytes", "proxy_config", "route_to", "run_remora", "sha256", "static_cluster",
    "tcp_listener", "virtual_host",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
SANITIZER_REPORT = re.compile(r"ERROR: \w*Sanitizer|runtime error:")
READY_TIMEOUT_S = 10.0

HCM_NAME = "envoy.filters.network.http_connection_manager"
HCM_TYPE = ("type.googleapis.com/"
            "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager")
TCP_PROXY_NAME = "envoy.filters.network.tcp_proxy"
TCP_PROXY_TYPE = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
ROUTER_FILTER = {
    "name": "envoy.filters.http.router",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
}
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def remora_bin() -> str:
    path = os.environ.get("REMORA_BIN", "")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError(f"REMORA_BIN must name the remora executable, got {path!r}")
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pattern_bytes(size: int, seed: int = 0) -> bytes:
    """Deterministic bytes without repetition, so a misplaced block changes the hash."""
    return hashlib.shake_256(f"remora-{seed}".encode()).digest(size)


BOOTSTRAP_TEMPLATE = string.Template("""\
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: $$admin_port }
static_resources:
  listeners: $listeners
  clusters: $clusters
""")


def bootstrap(listeners: list[dict], clusters: list[dict]) -> str:
    """A bootstrap YAML; `$admin_port` is filled in by Remora.start()."""
    return BOOTSTRAP_TEMPLATE.substitute(listeners=json.dumps(listeners),
                                         clusters=json.dumps(clusters))


def static_cluster(name: str, *ports: int, connect_timeout: str = "1s", **extra) -> dict:
    endpoints = [{"endpoint": {"address": {"socket_address": {"address": LOOPBACK,
                                                              "port_value": p}}}}
                 for p in ports]
    cluster = {"name": name, "type": "STATIC", "connect_timeout": connect_timeout,
               "load_assignment": {"cluster_name": name,
                                   "endpoints": [{"lb_endpoints": endpoints}] if ports else []}}
    cluster.update(extra)
    return cluster


def http_listener(virtual_hosts: list[dict], name: str = "http",
                  http_filters: Optional[list[dict]] = None,
                  route_config_extra: Optional[dict] = None, **hcm_options) -> dict:
    route_config = {"name": "routes", "virtual_hosts": virtual_hosts}
    route_config.update(route_config_extra or {})
    hcm = {"@type": HCM_TYPE, "stat_prefix": name, "route_config": route_config,
           "http_filters": http_filters if http_filters is not None else [ROUTER_FILTER]}
    hcm.update(hcm_options)
    return {"name": name,
            "address": {"socket_address": {"address": LOOPBACK, "port_value": 0}},
            "filter_chains": [{"filters": [{"name": HCM_NAME, "typed_config": hcm}]}]}


def tcp_listener(cluster: str, name: str = "tcp", **options) -> dict:
    proxy = {"@type": TCP_PROXY_TYPE, "stat_prefix": name, "cluster": cluster}
    proxy.update(options)
    return {"name": name,
            "address": {"socket_address": {"address": LOOPBACK, "port_value": 0}},
            "filter_chains": [{"filters": [{"name": TCP_PROXY_NAME, "typed_config": proxy}]}]}


def virtual_host(routes: list[dict], domains: Iterable[str] = ("*",), name: str = "default",
                 **extra) -> dict:
    vh = {"name": name, "domains": list(domains), "routes": routes}
    vh.update(extra)
    return vh


def route_to(cluster: str, prefix: str = "/", **action_options) -> dict:
    action = {"cluster": cluster}
    action.update(action_options)
    return {"match": {"prefix": prefix}, "route": action}


def proxy_config(upstream_port: int, route_options: Optional[dict] = None, **hcm_options) -> str:
    """Every request on listener "http" goes to cluster "backend" at upstream_port."""
    routes = [route_to("backend", **(route_options or {}))]
    return bootstrap([http_listener([virtual_host(routes)], **hcm_options)],
                     [static_cluster("backend", upstream_port)])


def sanitizer_report(stderr: str) -> Optional[str]:
    match = SANITIZER_REPORT.search(stderr)
    if not match:
        return None
    return stderr[max(0, match.start() - 200):match.start() + 4000]


def run_remora(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    """Runs remora to completion (CLI and validate tests); text output."""
    result = subprocess.run([remora_bin(), *args], capture_output=True, text=True,
                            timeout=timeout, check=False)
    report = sanitizer_report(result.stderr)
    assert report is None, f"sanitizer report from remora {args}:\n{report}"
    return result


class Remora:
    """One remora process on a config template (which may use $admin_port)."""

    _counter = 0

    def __init__(self, config: str, workdir: Path, concurrency: int = 1, drain_time_s: int = 1,
                 args: Iterable[str] = ()):
        Remora._counter += 1
        self.name = f"remora-{Remora._counter}"
        self.config_template = config
        self.workdir = workdir
        self.concurrency = concurrency
        self.drain_time_s = drain_time_s
        self.args = list(args)
        self.config_path = workdir / f"{self.name}.yaml"
        self.stderr_path = workdir / f"{self.name}.stderr"
        self.process: Optional[subprocess.Popen] = None
        self.admin_port = 0
        self.ports: dict[str, int] = {}
        self.exit_code: Optional[int] = None
        self.signalled = False

    def start(self) -> "Remora":
        for _ in range(3):  # the admin port may be taken before remora binds it
            self.admin_port = free_port()
            self.config_path.write_text(
                self.config_template.replace("$admin_port", str(self.admin_port)))
            self._spawn()
            if self._wait_ready():
                self.ports = self._listener_ports()
                return self
            if "cannot listen on admin address" not in self.stderr():
                break
        raise RuntimeError(f"{self.name} did not become ready (exit {self.process.poll()}):\n"
                           f"{self.stderr()[-4000:]}")

    def _spawn(self) -> None:
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        with open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                [remora_bin(), "-c", str(self.config_path), "--concurrency",
                 str(self.concurrency), "--drain-time-s", str(self.drain_time_s), *self.args],
                stdout=subprocess.DEVNULL, stderr=err, env=env)

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.exit_code = self.process.returncode
                return False
            try:
                if self.admin("GET", "/ready", timeout=1).status == 200 and self._is_ours():
                    return True
            except (OSError, IncompleteMessage, TimeoutError, ValueError):
                pass
            time.sleep(0.02)
        return False

    def _is_ours(self) -> bool:
        """Whether the admin port answering is this process (another may hold the port)."""
        info = json.loads(self.admin("GET", "/server_info", timeout=1).body)
        return info["command_line_options"]["config_path"] == str(self.config_path)

    def _listener_ports(self) -> dict[str, int]:
        listing = json.loads(self.admin("GET", "/listeners?format=json").body)
        return {entry["name"]: entry["local_address"]["socket_address"]["port_value"]
                for entry in listing["listener_statuses"]}

    @property
    def port(self) -> int:
        """The first listener's port."""
        return next(iter(self.ports.values()))

    def admin(self, method: str, path: str, timeout: float = IO_TIMEOUT_S) -> Response:
        return http_request(self.admin_port, method, path, host="admin", timeout=timeout)

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def send_signal(self, signum: int = signal.SIGTERM) -> None:
        self.signalled = True
        self.process.send_signal(signum)

    def wait(self, timeout: Optional[float] = None) -> int:
        if timeout is None:
            timeout = self.drain_time_s + 15
        try:
            self.exit_code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
            raise AssertionError(f"{self.name} did not exit within {timeout}s:\n"
                                 f"{self.stderr()[-3000:]}")
        return self.exit_code

    def stop(self) -> int:
        """SIGTERM (unless the test sent one already), then waits for the exit code.

        A second SIGTERM would be a different test: it cuts the drain short.
        """
        if self.running() and not self.signalled:
            self.send_signal(signal.SIGTERM)
        return self.wait()

    def check_exit(self) -> list[str]:
        """Problems with how the process ended (exit code, sanitizer reports)."""
        problems = []
        if self.process is None:
            return problems
        try:
            code = self.stop() if self.exit_code is None else self.exit_code
        except AssertionError as e:
            return [str(e)]
        if code != 0:
            problems.append(f"{self.name} exited with {code}, expected 0:\n"
                            f"{self.stderr()[-3000:]}")
        report = sanitizer_report(self.stderr())
        if report:
            problems.append(f"{self.name} sanitizer report:\n{report}")
        return problems
