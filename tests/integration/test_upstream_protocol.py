"""use_downstream_protocol_config: each request reaches the upstream in the protocol
its client used (HTTP/2 downstream -> HTTP/2 upstream, HTTP/1.1 -> HTTP/1.1), against
an upstream that answers both on one port and reports what it saw."""

import socket
import threading

import h2.config
import h2.connection
import h2.events

from harness import bootstrap, curl, http_listener, http_request, route_to, virtual_host
from http1 import LOOPBACK
from telemetry_support import stat

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


class DualProtocolServer:
    """Answers HTTP/2 (prior knowledge) and HTTP/1.1 on one port; the response body
    names the protocol of the connection, and the HTTP/2 clients' SETTINGS are kept."""

    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.h2_settings_seen = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock):
        sock.settimeout(10)
        try:
            first = sock.recv(65536)
            if first.startswith(PREFACE[:len(first)]) and first:
                self._serve_h2(sock, first)
            else:
                self._serve_h1(sock, first)
        except OSError:
            pass
        finally:
            sock.close()

    def _serve_h1(self, sock, data):
        while True:
            while b"\r\n\r\n" not in data:
                more = sock.recv(65536)
                if not more:
                    return
                data += more
            _, data = data.split(b"\r\n\r\n", 1)
            sock.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nHTTP/1.1")

    def _serve_h2(self, sock, data):
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        while data:
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.RemoteSettingsChanged):
                    self.h2_settings_seen.append(
                        {int(k): v.new_value for k, v in event.changed_settings.items()})
                if isinstance(event, h2.events.RequestReceived):
                    conn.send_headers(event.stream_id, [(":status", "200")])
                    conn.send_data(event.stream_id, b"HTTP/2", end_stream=True)
            sock.sendall(conn.data_to_send())
            data = sock.recv(65536)

    def stop(self):
        self.listener.close()


def downstream_protocol_cluster(port, protocol_config):
    return {"name": "backend", "type": "STATIC", "connect_timeout": "1s",
            "typed_extension_protocol_options": {HTTP_PROTOCOL_OPTIONS: {
                "@type": "type.googleapis.com/" + HTTP_PROTOCOL_OPTIONS,
                "use_downstream_protocol_config": protocol_config}},
            "load_assignment": {"cluster_name": "backend", "endpoints": [{"lb_endpoints": [
                {"endpoint": {"address": {"socket_address": {"address": LOOPBACK,
                                                             "port_value": port}}}}]}]}}


def test_upstream_protocol_follows_the_downstream(remora):
    server = DualProtocolServer()
    try:
        cluster = downstream_protocol_cluster(server.port, {
            "http_protocol_options": {},
            "http2_protocol_options": {"initial_stream_window_size": 131072}})
        proxy = remora(bootstrap([http_listener([virtual_host([route_to("backend")])])],
                                 [cluster]))
        assert http_request(proxy.port, path="/one").body == b"HTTP/1.1"
        h2_result = curl("--http2-prior-knowledge", f"http://127.0.0.1:{proxy.port}/two")
        assert h2_result.returncode == 0, h2_result.stderr
        assert h2_result.stdout == b"HTTP/2"
        assert http_request(proxy.port, path="/three").body == b"HTTP/1.1"
        assert stat(proxy, "cluster.backend.upstream_cx_http1_total") >= 1
        assert stat(proxy, "cluster.backend.upstream_cx_http2_total") == 1
        assert stat(proxy, "cluster.backend.upstream_rq_200") == 3
        # The HTTP/2 connection used the options inside use_downstream_protocol_config
        # (SETTINGS_INITIAL_WINDOW_SIZE = 4).
        assert any(s.get(4) == 131072 for s in server.h2_settings_seen), server.h2_settings_seen
    finally:
        server.stop()


def test_downstream_protocol_without_http2_options_uses_defaults(remora):
    server = DualProtocolServer()
    try:
        cluster = downstream_protocol_cluster(server.port, {})
        proxy = remora(bootstrap([http_listener([virtual_host([route_to("backend")])])],
                                 [cluster]))
        h2_result = curl("--http2-prior-knowledge", f"http://127.0.0.1:{proxy.port}/")
        assert h2_result.stdout == b"HTTP/2"
        assert http_request(proxy.port).body == b"HTTP/1.1"
    finally:
        server.stop()
