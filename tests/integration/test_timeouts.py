"""Connection and stream timeouts of the HTTP connection manager (short values)."""

from __future__ import annotations

import time

from harness import HttpClient, build_request, never_answer, proxy_config


def test_request_headers_timeout_answers_408_and_closes(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port, request_headers_timeout="0.5s"))
    with HttpClient(proxy.port) as client:
        client.send(b"GET / HTTP/1.1\r\nHost: test\r\n")  # no end of the head
        started = time.monotonic()
        raw, closed = client.read_until_closed(timeout=5)
        elapsed = time.monotonic() - started
    assert raw.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert closed
    assert elapsed >= 0.45
    assert backend.connection_count == 0


def test_request_headers_timeout_spares_a_complete_head(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port, request_headers_timeout="0.5s"))
    with HttpClient(proxy.port) as client:
        client.send(build_request("POST", "/", [("Content-Length", "4")]) + b"ab")
        time.sleep(0.8)  # the head is complete: only the body is slow
        client.send(b"cd")
        assert client.read_response().status == 200
    assert backend.requests[0].body == b"abcd"


def test_idle_timeout_closes_an_unused_connection(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port,
                                common_http_protocol_options={"idle_timeout": "0.5s"}))
    with HttpClient(proxy.port) as client:
        assert client.request("GET", "/").status == 200
        started = time.monotonic()
        data, closed = client.read_until_closed(timeout=5)
        elapsed = time.monotonic() - started
    assert (data, closed) == (b"", True)
    assert elapsed >= 0.45


def test_stream_idle_timeout_answers_408_stream_timeout(remora, upstream):
    backend = upstream(never_answer())
    proxy = remora(proxy_config(backend.port, route_options={"timeout": "0s"},
                                stream_idle_timeout="0.5s"))
    with HttpClient(proxy.port) as client:
        started = time.monotonic()
        response = client.request("GET", "/", timeout=5)
        elapsed = time.monotonic() - started
    assert (response.status, response.body) == (408, b"stream timeout")
    assert elapsed >= 0.45


def test_request_timeout_answers_408_to_a_stalled_body_and_closes(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port, request_timeout="0.5s"))
    with HttpClient(proxy.port) as client:
        client.send(build_request("POST", "/", [("Content-Length", "10")]) + b"abc")
        started = time.monotonic()
        response = client.read_response(timeout=5)
        elapsed = time.monotonic() - started
        assert (response.status, response.body) == (408, b"request timeout")
        assert client.closed_by_peer(timeout=3)
    assert elapsed >= 0.45
    assert backend.requests == []  # the upstream never got a complete request


def test_stream_idle_timeout_after_the_response_started_resets_the_stream(remora, upstream):
    def stall_mid_body(conn, request):
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst ten.")
        conn.wait_for_peer_close()
        conn.close()
    backend = upstream(stall_mid_body)
    proxy = remora(proxy_config(backend.port, route_options={"timeout": "0s"},
                                stream_idle_timeout="0.5s"))
    with HttpClient(proxy.port) as client:
        client.send(build_request("GET", "/"))
        started = time.monotonic()
        raw, closed = client.read_until_closed(timeout=5)
        elapsed = time.monotonic() - started
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n")
    assert raw.endswith(b"\r\n\r\nfirst ten.")
    assert closed
    assert elapsed >= 0.45


def test_route_timeout_covers_the_whole_response(remora, upstream):
    def stall_mid_body(conn, request):
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst ten.")
        conn.wait_for_peer_close()
        conn.close()
    backend = upstream(stall_mid_body)
    proxy = remora(proxy_config(backend.port, route_options={"timeout": "0.5s"}))
    with HttpClient(proxy.port) as client:
        client.send(build_request("GET", "/"))
        raw, closed = client.read_until_closed(timeout=5)
    assert raw.endswith(b"\r\n\r\nfirst ten.")
    assert closed
