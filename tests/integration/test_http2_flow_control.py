"""HTTP/2 downstream flow control and its limits, with a scriptable h2 client
(h2client.py): per-stream backpressure in both directions, the stream idle timeout
for a client that never opens its window, and the outbound frame flood limits."""

import json
import re
import socket
import threading
import time

from h2client import H2Client
from harness import (bootstrap, http_listener, respond, route_to, static_cluster, virtual_host,
                     wait_until)
from http1 import LOOPBACK

BODY_TOTAL = 48 * 1024 * 1024
# What loopback socket buffers, the proxy's 64 KiB connection buffers and one stream
# window can absorb together stays far below this.
HELD_BOUND = 16 * 1024 * 1024


def stat(remora, name):
    body = remora.admin("GET", "/stats?format=json&filter=" + re.escape(name) + "$").text
    values = [s["value"] for s in json.loads(body)["stats"] if s.get("name") == name]
    assert len(values) == 1, body
    return values[0]


class NonReadingServer:
    """Accepts connections and never reads from them (a stalled upstream)."""

    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.accepted = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(sock)

    def stop(self):
        self.listener.close()
        for sock in self.accepted:
            sock.close()


def buffered_config(sink_port, backend_port, **hcm_options):
    listener = http_listener([virtual_host([route_to("sink", prefix="/upload"),
                                            route_to("backend")])],
                             codec_type="HTTP2", **hcm_options)
    listener["per_connection_buffer_limit_bytes"] = 65536
    return bootstrap([listener],
                     [static_cluster("sink", sink_port, per_connection_buffer_limit_bytes=65536),
                      static_cluster("backend", backend_port)])


def test_stalled_upload_holds_only_its_own_stream(remora, upstream):
    sink = NonReadingServer()
    try:
        backend = upstream(respond(200, b"fast"))
        proxy = remora(buffered_config(sink.port, backend.port))
        client = H2Client(proxy.port)
        upload = client.request("POST", "/upload", end_stream=False)
        sent = client.send_until_blocked(upload, BODY_TOTAL)
        # The proxy stopped reopening the upload's window once the upstream backed up.
        assert sent < HELD_BOUND, sent
        assert client.conn.local_flow_control_window(upload) == 0
        # Another stream on the same connection is not held up.
        other = client.request("GET", "/fast")
        response = client.response(other)
        assert response is not None and response.get("ended"), client.responses
        assert response["headers"][":status"] == "200"
        assert response["body"] == b"fast"
        # Still nothing more for the upload.
        client.pump(0.5)
        assert client.conn.local_flow_control_window(upload) == 0
        client.close()
    finally:
        sink.stop()


class ProgressServer:
    """Answers one request with a huge body, recording how much the proxy took."""

    def __init__(self, upstream_factory, total):
        self.sent = 0
        self.stop = threading.Event()

        def handler(conn, request):
            conn.send(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % total)
            conn.sock.settimeout(0.2)
            chunk = b"d" * 65536
            while self.sent < total and not self.stop.is_set():
                try:
                    self.sent += conn.sock.send(chunk)
                except socket.timeout:
                    continue
                except OSError:
                    return
        self.server = upstream_factory(handler)

    def settled(self, quiet=1.5, timeout=20.0):
        """Waits until the upstream made no progress for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            if self.sent != last:
                last, since = self.sent, time.monotonic()
            elif time.monotonic() - since > quiet:
                return self.sent
            time.sleep(0.1)
        return self.sent


def test_client_that_stops_reading_stalls_only_its_upstream(remora, upstream):
    progress = ProgressServer(upstream, BODY_TOTAL)
    fast = upstream(respond(200, b"fast"))
    listener = http_listener([virtual_host([route_to("big", prefix="/big"), route_to("fast")])],
                             codec_type="HTTP2")
    listener["per_connection_buffer_limit_bytes"] = 65536
    proxy = remora(bootstrap([listener],
                             [static_cluster("big", progress.server.port,
                                             per_connection_buffer_limit_bytes=65536),
                              static_cluster("fast", fast.port)]))
    # The client never acknowledges DATA: the big response exhausts its stream window
    # (and most of the connection window) and then queues in the proxy.
    client = H2Client(proxy.port, auto_window_update=False)
    big = client.request("GET", "/big")
    assert client.wait_for(lambda: big in client.responses)
    taken = progress.settled()
    progress.stop.set()
    assert taken < HELD_BOUND, taken
    client.close()


def zero_window_config(backend_port):
    listener = http_listener([virtual_host([route_to("backend")])], codec_type="HTTP2",
                             stream_idle_timeout="1s")
    listener["per_connection_buffer_limit_bytes"] = 65536
    return bootstrap([listener], [static_cluster("backend", backend_port)])


def test_complete_response_to_zero_window_client_is_reset_by_flush_timeout(remora, upstream):
    backend = upstream(respond(200, b"s" * 100))
    proxy = remora(zero_window_config(backend.port))
    client = H2Client(proxy.port, initial_window=0)
    stream = client.request("GET", "/small")
    assert client.wait_for(lambda: stream in client.resets, timeout=15), client.responses
    assert client.resets[stream] == 8  # CANCEL
    assert client.responses[stream]["headers"][":status"] == "200"
    assert client.responses[stream]["body"] == b""
    assert stat(proxy, "http2.tx_flush_timeout") == 1
    # The exchange itself was complete when the flush timer took over.
    assert stat(proxy, "http.http.downstream_rq_idle_timeout") == 0
    client.close()


def test_unfinished_response_to_zero_window_client_hits_stream_idle_timeout(remora, upstream):
    backend = upstream(respond(200, b"L" * (1024 * 1024)))
    proxy = remora(zero_window_config(backend.port))
    client = H2Client(proxy.port, initial_window=0)
    stream = client.request("GET", "/large")
    assert client.wait_for(lambda: stream in client.resets, timeout=15), client.responses
    assert client.resets[stream] == 8  # CANCEL
    assert stat(proxy, "http.http.downstream_rq_idle_timeout") == 1
    assert stat(proxy, "http2.tx_flush_timeout") == 0
    # Only the stream ended: the connection still serves others.
    assert not client.closed
    client.close()
