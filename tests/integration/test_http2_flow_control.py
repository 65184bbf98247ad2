"""HTTP/2 downstream flow control and its limits, with a scriptable h2 client
(h2client.py): per-stream backpressure in both directions, the stream idle timeout
for a client that never opens its window, and the outbound frame flood limits."""

import socket
import threading
import time

from h2client import H2Client
from harness import (bootstrap, http_listener, respond, route_to, static_cluster, virtual_host,
                     wait_until)
from http1 import LOOPBACK
from telemetry_support import stat

BODY_TOTAL = 48 * 1024 * 1024
# What loopback socket buffers, the proxy's 64 KiB connection buffers and one stream
# window can absorb together stays far below this.
HELD_BOUND = 16 * 1024 * 1024


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


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
EMPTY_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
PING = b"\x00\x00\x08\x06\x00\x00\x00\x00\x00" + b"pingpong"


def flood_config(**http2_options):
    listener = http_listener([virtual_host([route_to("backend")])], codec_type="HTTP2",
                             http2_protocol_options=http2_options)
    listener["per_connection_buffer_limit_bytes"] = 16384
    return bootstrap([listener], [static_cluster("backend", 1)])


def ping_without_reading(port, max_pings=2_000_000):
    """Sends PINGs and never reads the ACKs; returns once the proxy cut the connection."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((LOOPBACK, port))
    sock.settimeout(10)
    batch = PING * 1000
    cut = False
    try:
        sock.sendall(PREFACE + EMPTY_SETTINGS)
        for _ in range(max_pings // 1000):
            sock.sendall(batch)
    except OSError:
        cut = True
    finally:
        sock.close()
    return cut


def test_client_that_never_reads_pings_hits_max_outbound_frames(remora):
    proxy = remora(flood_config(max_outbound_frames=100, max_outbound_control_frames=100000))
    assert ping_without_reading(proxy.port)
    assert wait_until(lambda: stat(proxy, "http2.outbound_flood") == 1, timeout=5)
    assert stat(proxy, "http2.outbound_control_flood") == 0
    assert stat(proxy, "http.http.downstream_cx_protocol_error") == 1
    assert wait_until(lambda: stat(proxy, "http.http.downstream_cx_active") == 0, timeout=5)


def test_unread_ping_acks_hit_max_outbound_control_frames(remora):
    proxy = remora(flood_config(max_outbound_frames=100000, max_outbound_control_frames=50))
    assert ping_without_reading(proxy.port)
    assert wait_until(lambda: stat(proxy, "http2.outbound_control_flood") == 1, timeout=5)
    assert stat(proxy, "http2.outbound_flood") == 0
    assert wait_until(lambda: stat(proxy, "http.http.downstream_cx_active") == 0, timeout=5)


def get_headers_frame(stream_id):
    """HEADERS(END_STREAM|END_HEADERS) for GET http://example.com/ (HPACK static table
    entries and a literal :authority)."""
    block = b"\x82\x86\x84\x41\x0bexample.com"
    return (len(block).to_bytes(3, "big") + b"\x01\x05" + stream_id.to_bytes(4, "big") + block)


def test_client_that_opens_streams_and_never_reads_hits_max_outbound_frames(remora, upstream):
    backend = upstream(respond(200, b"r" * 64))
    listener = http_listener([virtual_host([route_to("backend")])], codec_type="HTTP2",
                             http2_protocol_options={"max_outbound_frames": 40})
    listener["per_connection_buffer_limit_bytes"] = 16384
    proxy = remora(bootstrap([listener], [static_cluster("backend", backend.port)]))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((LOOPBACK, proxy.port))
    sock.settimeout(10)
    sock.sendall(PREFACE + EMPTY_SETTINGS)
    # Batches of 50 requests, their responses never read: once the socket buffers are
    # full, the response heads of one batch are more frames than the limit. (Batches
    # stay below max_concurrent_streams, so no stream is refused.)
    cut = False
    for start in range(1, 2 * 100_000, 2 * 50):
        try:
            sock.sendall(b"".join(get_headers_frame(i) for i in range(start, start + 100, 2)))
        except OSError:
            cut = True
            break
        time.sleep(0.05)
    sock.close()
    assert cut
    assert stat(proxy, "http2.outbound_flood") == 1
    assert stat(proxy, "http.http.downstream_cx_protocol_error") == 1
    assert wait_until(lambda: stat(proxy, "http.http.downstream_cx_active") == 0, timeout=5)


def test_client_that_stops_reading_closes_its_http2_upstream_stream_window(remora, tmp_path):
    from test_http2 import Nghttpd, h2_cluster
    (tmp_path / "big").write_bytes(b"b" * (32 * 1024 * 1024))
    server = Nghttpd(tmp_path)
    try:
        assert wait_until(server.ready, timeout=5)
        listener = http_listener([virtual_host([route_to("backend")])], codec_type="HTTP2")
        listener["per_connection_buffer_limit_bytes"] = 65536
        cluster = h2_cluster(server.port)
        cluster["per_connection_buffer_limit_bytes"] = 65536
        proxy = remora(bootstrap([listener], [cluster]))
        client = H2Client(proxy.port, auto_window_update=False)
        big = client.request("GET", "/big")
        assert client.wait_for(lambda: big in client.responses)
        # The proxy stops reopening the upstream stream's window once the client's
        # stream queue is full: what it takes from nghttpd stays bounded.
        taken = -1
        for _ in range(100):
            time.sleep(0.3)
            now = stat(proxy, "cluster.backend.upstream_cx_rx_bytes_total")
            if now == taken:
                break
            taken = now
        assert taken < HELD_BOUND, taken
        client.close()
    finally:
        server.stop()
