"""HTTP/2 downstream (h2c by prior knowledge) to an HTTP/1.1 upstream, with real
clients: curl --http2-prior-knowledge and h2load (Debian's nghttp2-client)."""

import signal
import subprocess
import threading

from harness import (build_response, curl, delayed, echo_path, http_request, pattern_bytes,
                     proxy_config, respond, sha256, wait_until)
from telemetry_support import stat


def echo_body():
    def handler(conn, request):
        conn.send(build_response(200, request.body))
    return handler


def test_curl_prior_knowledge_get(remora, upstream):
    backend = upstream(echo_path())
    proxy = remora(proxy_config(backend.port))
    result = curl("--http2-prior-knowledge", "-D", "-", f"http://127.0.0.1:{proxy.port}/h2/path?q=1")
    assert result.returncode == 0, result.stderr
    head, body = result.stdout.split(b"\r\n\r\n", 1)
    assert head.split(b"\r\n")[0].strip() == b"HTTP/2 200"
    assert body == b"/h2/path?q=1"
    # The upstream got an ordinary HTTP/1.1 request with the :authority as Host.
    request = backend.requests[0]
    assert request.start_line == "GET /h2/path?q=1 HTTP/1.1"
    assert request.header("host") == f"127.0.0.1:{proxy.port}"
    assert stat(proxy, "http.http.downstream_cx_http2_total") == 1
    assert stat(proxy, "http.http.downstream_rq_http2_total") == 1


def test_request_body_streams_through(remora, upstream, tmp_path):
    backend = upstream(echo_body())
    proxy = remora(proxy_config(backend.port))
    payload = pattern_bytes(3 * 1024 * 1024 + 17)
    (tmp_path / "body").write_bytes(payload)
    result = curl("--http2-prior-knowledge", "--data-binary", f"@{tmp_path / 'body'}",
                  f"http://127.0.0.1:{proxy.port}/upload")
    assert result.returncode == 0, result.stderr
    assert sha256(result.stdout) == sha256(payload)
    assert sha256(backend.requests[0].body) == sha256(payload)


def test_h2load_many_streams_exact_counts(remora, upstream):
    backend = upstream(respond(200, b"hello"))
    proxy = remora(proxy_config(backend.port), concurrency=2)
    result = subprocess.run(["h2load", "-n", "400", "-c", "4", "-m", "10",
                             f"http://127.0.0.1:{proxy.port}/"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "400 succeeded, 0 failed, 0 errored" in result.stdout, result.stdout
    assert "400 2xx" in result.stdout
    assert len(backend.requests) == 400
    assert wait_until(lambda: stat(proxy, "http.http.downstream_rq_completed") == 400, timeout=5)
    assert stat(proxy, "http.http.downstream_rq_http2_total") == 400
    assert stat(proxy, "http.http.downstream_cx_http2_total") == 4
    assert stat(proxy, "http.http.downstream_rq_2xx") == 400


def test_route_miss_is_local_404_per_stream(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port, route_options=None).replace(
        '"prefix": "/"', '"prefix": "/only"'))
    result = curl("--http2-prior-knowledge", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                  f"http://127.0.0.1:{proxy.port}/elsewhere")
    assert result.stdout == b"404"
    assert backend.requests == []


def test_drain_sends_goaway_and_finishes_streams(remora, upstream):
    backend = upstream(delayed(1.0, respond(200, b"slow")))
    proxy = remora(proxy_config(backend.port), drain_time_s=10)
    outcome = {}

    def slow_request():
        outcome["result"] = curl("--http2-prior-knowledge", "-s", "-w", "\n%{http_code}",
                                 f"http://127.0.0.1:{proxy.port}/slow", timeout=20)

    client = threading.Thread(target=slow_request)
    client.start()
    assert wait_until(lambda: len(backend.requests) == 1, timeout=5)
    proxy.send_signal(signal.SIGTERM)
    client.join(timeout=20)
    assert outcome["result"].stdout == b"slow\n200"
    assert proxy.wait(timeout=15) == 0


def test_http1_clients_still_work_on_the_same_listener(remora, upstream):
    backend = upstream(respond(200, b"h1"))
    proxy = remora(proxy_config(backend.port))
    assert http_request(proxy.port).body == b"h1"
    h2 = curl("--http2-prior-knowledge", f"http://127.0.0.1:{proxy.port}/")
    assert h2.stdout == b"h1"


class Nghttpd:
    """Debian's nghttpd serving a directory over h2c (prior knowledge) on loopback."""

    def __init__(self, directory):
        from harness import free_port
        self.port = free_port()
        self.process = subprocess.Popen(["nghttpd", "--no-tls", "-d", str(directory),
                                         str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ready(self):
        import socket
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=5)


def h2_cluster(port):
    cluster = {"name": "backend", "type": "STATIC", "connect_timeout": "1s",
               "typed_extension_protocol_options": {
                   "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                       "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                       "explicit_http_config": {"http2_protocol_options": {}}}},
               "load_assignment": {"cluster_name": "backend", "endpoints": [{"lb_endpoints": [
                   {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1",
                                                                "port_value": port}}}}]}]}}
    return cluster


def test_http2_upstream_multiplexes_one_connection(remora, tmp_path):
    from harness import bootstrap, http_listener, route_to, virtual_host
    (tmp_path / "index.html").write_bytes(b"from nghttpd\n")
    server = Nghttpd(tmp_path)
    try:
        assert wait_until(server.ready, timeout=5)
        proxy = remora(bootstrap([http_listener([virtual_host([route_to("backend")])])],
                                 [h2_cluster(server.port)]))
        # HTTP/1.1 downstream, HTTP/2 upstream.
        assert http_request(proxy.port, path="/index.html").body == b"from nghttpd\n"
        # HTTP/2 downstream, 300 streams over 3 connections, all on one upstream session.
        result = subprocess.run(["h2load", "-n", "300", "-c", "3", "-m", "20",
                                 f"http://127.0.0.1:{proxy.port}/index.html"],
                                capture_output=True, text=True, timeout=60, check=False)
        assert "300 succeeded, 0 failed, 0 errored" in result.stdout, result.stdout
        assert stat(proxy, "cluster.backend.upstream_rq_200") == 301
        assert stat(proxy, "cluster.backend.upstream_cx_http2_total") == 1
        assert stat(proxy, "cluster.backend.upstream_cx_total") == 1
    finally:
        server.stop()
