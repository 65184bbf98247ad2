"""The upstream and the targets under test: config rendering, start, readiness."""

import http.client
import os
import re
import socket
import ssl
import time

from . import procs

CONFIG_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")
LARGE_BODY_BYTES = 64 * 1024


class StartError(Exception):
    pass


def render(template_name, out_path, values):
    """Replaces @NAME@ placeholders; refuses to leave any unfilled."""
    with open(os.path.join(CONFIG_DIR, template_name)) as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    leftover = re.findall(r"@[A-Z_]+@", text)
    if leftover:
        raise StartError(f"{template_name}: no value for {sorted(set(leftover))}")
    with open(out_path, "w") as f:
        f.write(text)
    return out_path


def http_get_status(port, path, timeout_s=2.0, tls=False):
    if tls:
        # The run's certificate is self-signed: readiness is all this checks.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout_s, context=context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def wait_until_serving(port, proc, name, launcher, timeout_s=15.0, tls=False):
    """Waits for the port, then for GET /small to answer 200 (the upstream pool works)."""
    if not procs.wait_for_port(port, proc, timeout_s):
        raise StartError(f"{name} did not listen on {port}:\n{launcher.log_tail(name)}")
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            last = http_get_status(port, "/small", tls=tls)
            if last == 200:
                return
        except (OSError, http.client.HTTPException) as e:
            last = e
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise StartError(f"{name} does not answer GET /small {'over TLS ' if tls else ''}with 200 "
                     f"(last: {last}):\n"
                     f"{launcher.log_tail(name)}")


class Upstream:
    """nginx serving /small (fixed body) and /64k (a static file), HTTP/1.1, h2c and
    HTTPS (the TLS floor)."""

    name = "upstream"

    def __init__(self, launcher, tls_material):
        self.launcher = launcher
        self.tls_material = tls_material
        self.proc = None
        self.port = self.h2_port = self.tls_port = None

    def start(self, workers, cpus):
        run_dir = self.launcher.run_dir
        www = os.path.join(run_dir, "www")
        os.makedirs(www, exist_ok=True)
        with open(os.path.join(www, "64k"), "wb") as f:
            f.write(os.urandom(LARGE_BODY_BYTES))
        # nginx workers run as "nobody" when started by root.
        for path in (run_dir, www, os.path.join(www, "64k")):
            os.chmod(path, 0o755)
        self.port, self.h2_port, self.tls_port = procs.free_ports(3)
        conf = render("upstream-nginx.conf", os.path.join(run_dir, f"upstream-w{workers}.conf"),
                      {"WORKERS": workers, "RUN_DIR": run_dir, "PORT": self.port,
                       "H2_PORT": self.h2_port, "TLS_PORT": self.tls_port}
                      | self.tls_material.template_values())
        self.proc = self.launcher.start(self.name, ["nginx", "-p", run_dir, "-c", conf], cpus)
        wait_until_serving(self.port, self.proc, self.name, self.launcher)
        wait_until_serving(self.tls_port, self.proc, self.name, self.launcher, tls=True)

    def pids(self):
        return procs.process_tree(self.proc.pid) if self.proc else []

    def stop(self):
        if self.proc:
            self.launcher.stop(self.proc)
            self.proc = None


class Target:
    """A proxy under test. Subclasses provide the command line."""

    name = ""
    h2_unsupported = None  # reason shown instead of h2 figures, if any
    tls_unsupported = None  # reason shown instead of TLS figures, if any

    def __init__(self, launcher, tls_material):
        self.launcher = launcher
        self.tls_material = tls_material
        self.proc = None
        self.port = self.h2_port = self.tls_port = None

    def command(self, workers, upstream):
        raise NotImplementedError

    def start(self, workers, cpus, upstream):
        argv = self.command(workers, upstream)
        self.proc = self.launcher.start(self.name, argv, cpus)
        wait_until_serving(self.port, self.proc, self.name, self.launcher)
        if self.tls_port is not None:
            wait_until_serving(self.tls_port, self.proc, self.name, self.launcher, tls=True)

    def allocate_ports(self):
        self.port, self.h2_port, self.tls_port = procs.free_ports(3)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def pids(self):
        return procs.process_tree(self.proc.pid) if self.proc else []

    def stop(self):
        if self.proc:
            self.launcher.stop(self.proc)
            self.proc = None

    def _render(self, template, suffix, workers, upstream, extra=None):
        values = {"WORKERS": workers, "RUN_DIR": self.launcher.run_dir, "PORT": self.port,
                  "H2_PORT": self.h2_port, "TLS_PORT": self.tls_port,
                  "UPSTREAM_PORT": upstream.port} | self.tls_material.template_values()
        values.update(extra or {})
        out = os.path.join(self.launcher.run_dir, f"{self.name}-w{workers}.{suffix}")
        return render(template, out, values)


class Direct(Target):
    """No proxy: the load generator talks to the upstream. The floor for latency."""

    name = "direct"

    def start(self, workers, cpus, upstream):
        self.port, self.h2_port, self.tls_port = upstream.port, upstream.h2_port, upstream.tls_port

    def alive(self):
        return True

    def pids(self):
        return []

    def stop(self):
        pass


def speaks_h2c(port, timeout_s=1.0):
    """True if the listener answers an HTTP/2 prior-knowledge preface with a SETTINGS frame."""
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    empty_settings = bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])  # length 0, type 4 (SETTINGS)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as s:
            s.sendall(preface + empty_settings)
            header = b""
            while len(header) < 9:
                chunk = s.recv(9 - len(header))
                if not chunk:
                    return False
                header += chunk
    except OSError:
        return False
    return header[3] == 4


class Remora(Target):
    name = "remora"

    def __init__(self, launcher, tls_material, binary):
        super().__init__(launcher, tls_material)
        self.binary = binary

    def start(self, workers, cpus, upstream):
        super().start(workers, cpus, upstream)
        # Measured over h2c as soon as the listener speaks it (codec_type AUTO).
        if speaks_h2c(self.port):
            self.h2_port = self.port
        else:
            self.h2_unsupported = "n/a (no HTTP/2 yet)"

    config_template = "remora.yaml"

    def command(self, workers, upstream):
        # The plaintext listener speaks h2c too (probed in start()): no h2 port.
        self.port, self.tls_port, admin_port = procs.free_ports(3)
        if self.tls_unsupported:
            self.tls_port = None
        conf = self._render(self.config_template, "yaml", workers, upstream,
                            {"ADMIN_PORT": admin_port})
        return [self.binary, "-c", conf, "--concurrency", str(workers), "-l", "warning",
                "--drain-time-s", "1"]


class RemoraWithAccessLog(Remora):
    """Remora with a file access log in Envoy's default format: the cost of logging."""

    name = "remora-log"
    config_template = "remora-accesslog.yaml"
    tls_unsupported = "n/a (TLS is measured on remora)"


class RemoraBaseline(Remora):
    """Another Remora binary (harness --baseline): before/after figures from one run."""

    name = "remora-base"


class Nginx(Target):
    name = "nginx"

    def command(self, workers, upstream):
        self.allocate_ports()
        conf = self._render("nginx.conf", "conf", workers, upstream)
        return ["nginx", "-p", self.launcher.run_dir, "-c", conf]


class HAProxy(Target):
    name = "haproxy"

    def command(self, workers, upstream):
        self.allocate_ports()
        conf = self._render("haproxy.cfg", "cfg", workers, upstream)
        return ["haproxy", "-db", "-f", conf]


class Nghttpx(Target):
    name = "nghttpx"

    def command(self, workers, upstream):
        self.allocate_ports()
        conf = self._render("nghttpx.conf", "conf", workers, upstream)
        return ["nghttpx", f"--conf={conf}"]


def make_targets(launcher, tls_material, remora_binary, names, baseline_binary=None):
    factories = {
        "remora-base": lambda: RemoraBaseline(launcher, tls_material, baseline_binary),
        "direct": lambda: Direct(launcher, tls_material),
        "remora": lambda: Remora(launcher, tls_material, remora_binary),
        "remora-log": lambda: RemoraWithAccessLog(launcher, tls_material, remora_binary),
        "nginx": lambda: Nginx(launcher, tls_material),
        "haproxy": lambda: HAProxy(launcher, tls_material),
        "nghttpx": lambda: Nghttpx(launcher, tls_material),
    }
    return [factories[n]() for n in names]


ALL_TARGETS = ["direct", "remora", "remora-log", "nginx", "haproxy", "nghttpx"]
# Measured only when the harness is given --baseline.
BASELINE_TARGET = "remora-base"
