"""Memory figures: idle RSS and RSS growth per idle keep-alive downstream connection."""

import os
import re
import selectors
import socket
import time

from . import procs

REQUEST = b"GET /small HTTP/1.1\r\nHost: bench\r\n\r\n"
SETTLE_S = 1.0


def _response_complete(buf):
    head_end = buf.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    match = re.search(rb"(?im)^content-length:\s*(\d+)", buf[:head_end])
    if match is None:  # every target answers /small with a Content-Length
        return False
    return len(buf) >= head_end + 4 + int(match.group(1))


def _open_batch(port, count, timeout_s):
    """Opens `count` connections, each serving one GET /small; returns the open sockets."""
    selector = selectors.DefaultSelector()
    pending = {}
    for _ in range(count):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        pending[s] = b""
        selector.register(s, selectors.EVENT_WRITE)
    done = []
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        for key, events in selector.select(timeout=0.2):
            s = key.fileobj
            try:
                if events & selectors.EVENT_WRITE:
                    s.send(REQUEST)  # 36 bytes always fit an empty send buffer
                    selector.modify(s, selectors.EVENT_READ)
                    continue
                chunk = s.recv(4096)
            except OSError:
                chunk = b""
            if not chunk:
                selector.unregister(s)
                del pending[s]
                s.close()
                continue
            pending[s] += chunk
            if _response_complete(pending[s]):
                selector.unregister(s)
                del pending[s]
                done.append(s)
    for s in pending:
        selector.unregister(s)
        s.close()
    selector.close()
    return done


def connection_cost(target, count, batch=100):
    """RSS growth of the target's processes per idle keep-alive connection that has
    served one request, measured with `count` connections held open at once."""
    before_kib = procs.memory_kib(target.pids(), "VmRSS")
    sockets = []
    try:
        while len(sockets) < count:
            opened = _open_batch(target.port, min(batch, count - len(sockets)), timeout_s=10)
            if not opened:
                break
            sockets.extend(opened)
        time.sleep(SETTLE_S)
        after_kib = procs.memory_kib(target.pids(), "VmRSS")
    finally:
        for s in sockets:
            s.close()
    opened = len(sockets)
    return {
        "connections": opened,
        "rss_before_kib": before_kib,
        "rss_after_kib": after_kib,
        "bytes_per_connection": (after_kib - before_kib) * 1024 / opened if opened else None,
    }


def remora_sidecar_idle(launcher, binary, sidecar_yaml, workers=2):
    """Idle RSS of Remora serving config/examples/sidecar.yaml, rewritten to loopback and
    free ports (its upstreams need not exist: an idle proxy never connects)."""
    with open(sidecar_yaml) as f:
        text = f.read()
    listen_ports = [15006, 15001, 9901]
    replacements = dict(zip(listen_ports, procs.free_ports(len(listen_ports))))
    for old, new in replacements.items():
        text = re.sub(rf"port_value: {old}\b", f"port_value: {new}", text)
    text = text.replace("0.0.0.0", "127.0.0.1")
    conf = os.path.join(launcher.run_dir, "sidecar.yaml")
    with open(conf, "w") as f:
        f.write(text)
    proc = launcher.start("remora-sidecar", [binary, "-c", conf, "--concurrency", str(workers),
                                             "-l", "warning", "--drain-time-s", "1"])
    try:
        if not procs.wait_for_port(replacements[15001], proc):
            raise RuntimeError("Remora did not start with sidecar.yaml:\n"
                               + launcher.log_tail("remora-sidecar"))
        time.sleep(SETTLE_S)
        pids = procs.process_tree(proc.pid)
        return {"workers": workers, "rss_kib": procs.memory_kib(pids, "VmRSS"),
                "threads": len(os.listdir(f"/proc/{proc.pid}/task"))}
    finally:
        launcher.stop(proc)
