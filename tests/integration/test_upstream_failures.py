"""What a client sees when the upstream fails in each way it can."""

from __future__ import annotations

import time

from harness import (HttpClient, build_request, close_mid_body, close_without_response, curl,
                     free_port, http_request, never_answer, proxy_config, respond, send_garbage)

RESET_BODY = "upstream connect error or disconnect/reset before headers. reset reason: "


def test_connection_refused_is_503_connection_failure(remora):
    proxy = remora(proxy_config(free_port()))  # nothing listens there
    response = http_request(proxy.port)
    assert (response.status, response.text) == (503, RESET_BODY + "connection failure")


def test_upstream_closing_before_the_response_is_503_connection_termination(remora, upstream):
    backend = upstream(close_without_response())
    proxy = remora(proxy_config(backend.port))
    response = http_request(proxy.port)
    assert (response.status, response.text) == (503, RESET_BODY + "connection termination")
    assert len(backend.requests) == 1


def test_garbage_response_is_502(remora, upstream):
    backend = upstream(send_garbage())
    proxy = remora(proxy_config(backend.port))
    response = http_request(proxy.port)
    assert (response.status, response.text) == (502, RESET_BODY + "protocol error")


def test_silent_upstream_hits_the_route_timeout_504(remora, upstream):
    backend = upstream(never_answer())
    proxy = remora(proxy_config(backend.port, route_options={"timeout": "0.5s"}))
    started = time.monotonic()
    response = http_request(proxy.port, timeout=10)
    elapsed = time.monotonic() - started
    assert (response.status, response.text) == (504, "upstream request timeout")
    assert elapsed >= 0.45  # the route timeout, not an immediate failure


def test_upstream_closing_mid_body_truncates_the_response(remora, upstream):
    backend = upstream(close_mid_body(1000, b"x" * 100))
    proxy = remora(proxy_config(backend.port))
    result = curl("-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                  f"http://127.0.0.1:{proxy.port}/", timeout=20)
    assert result.returncode == 18, result.stderr  # CURLE_PARTIAL_FILE, not a hang
    assert result.stdout == b"200 100"


def test_upstream_connection_close_is_honoured(remora, upstream):
    backend = upstream(respond(200, b"once", [("Connection", "close")]), close_after_responses=1)
    proxy = remora(proxy_config(backend.port))
    bodies = [http_request(proxy.port).body for _ in range(3)]
    assert bodies == [b"once"] * 3
    assert backend.connection_count == 3


def test_idle_pooled_connection_closed_by_the_upstream_is_not_reused(remora, upstream):
    # The upstream keeps its responses keep-alive but closes each connection 100 ms later.
    backend = upstream(respond(200, b"fresh", [("Connection", "keep-alive")]),
                       close_idle_after=0.1)
    proxy = remora(proxy_config(backend.port))
    statuses = []
    for _ in range(3):
        statuses.append(http_request(proxy.port).status)
        time.sleep(0.3)
    assert statuses == [200, 200, 200]
    assert backend.connection_count == 3


def test_response_with_content_length_and_chunked_is_502(remora, upstream):
    backend = upstream(send_garbage(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                                    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"))
    proxy = remora(proxy_config(backend.port))
    response = http_request(proxy.port)
    assert (response.status, response.text) == (502, RESET_BODY + "protocol error")


def test_bytes_after_a_complete_response_never_reach_the_next_request(remora, upstream):
    backend = upstream(send_garbage(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                                    b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled"))
    proxy = remora(proxy_config(backend.port))
    bodies = [http_request(proxy.port, path=f"/{i}").body for i in range(3)]
    assert bodies == [b"ok", b"ok", b"ok"]


def test_unsolicited_100_continue_from_the_upstream_is_not_forwarded(remora, upstream):
    backend = upstream(send_garbage(b"HTTP/1.1 100 Continue\r\n\r\n"
                                    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"))
    proxy = remora(proxy_config(backend.port))
    with HttpClient(proxy.port) as client:
        client.send(build_request("GET", "/"))
        first = client.read_response(keep_interim=True)
        second = client.request("GET", "/again")
    assert (first.status, first.body, second.status, second.body) == (200, b"final", 200, b"final")
