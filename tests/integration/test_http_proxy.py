"""HTTP/1.1 proxying end to end: real clients, real upstreams, the real binary."""

from __future__ import annotations

import threading
import time

from harness import (UUID4, HttpClient, build_request, curl, delayed, echo_path, http_request,
                     pattern_bytes, proxy_config, respond, respond_chunked, sha256,
                     switch_protocols_and_echo, wait_until)

INDEX = b"<html><body>served by nginx through remora</body></html>\n"


def url(proxy, path="/"):
    return f"http://127.0.0.1:{proxy.port}{path}"


def test_get_through_nginx_returns_the_exact_body(remora, nginx):
    server = nginx({"index.html": INDEX})
    proxy = remora(proxy_config(server.port))
    result = curl("-o", "-", "-w", "\n%{http_code}", url(proxy, "/index.html"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == INDEX + b"\n200"


def test_large_download_from_nginx_is_intact(remora, nginx, tmp_path):
    big = pattern_bytes(8 << 20, seed=1)
    server = nginx({"big.bin": big})
    proxy = remora(proxy_config(server.port))
    out = tmp_path / "download"
    result = curl("-o", str(out), url(proxy, "/big.bin"))
    assert result.returncode == 0, result.stderr
    assert sha256(out.read_bytes()) == sha256(big)


def test_curl_reuses_one_downstream_connection(remora, nginx):
    server = nginx({"a": b"A", "b": b"B"})
    proxy = remora(proxy_config(server.port))
    result = curl("-o", "/dev/null", "-o", "/dev/null", "-w", "%{num_connects}\n",
                  url(proxy, "/a"), url(proxy, "/b"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [b"1", b"0"]


def test_sequential_requests_share_one_pooled_upstream_connection(remora, upstream):
    backend = upstream(respond(200, b"pooled"))
    proxy = remora(proxy_config(backend.port))
    for _ in range(5):  # each on a new downstream connection
        assert http_request(proxy.port, path="/p").body == b"pooled"
    assert backend.connection_count == 1
    assert len(backend.requests) == 5


def test_pipelined_requests_are_answered_in_order(remora, upstream):
    backend = upstream(echo_path())
    proxy = remora(proxy_config(backend.port))
    with HttpClient(proxy.port) as client:
        client.send(b"".join(build_request("GET", f"/{name}") for name in ("one", "two", "three")))
        bodies = [client.read_response().body for _ in range(3)]
    assert bodies == [b"/one", b"/two", b"/three"]
    assert [r.target for r in backend.requests] == ["/one", "/two", "/three"]


def test_content_length_body_reaches_the_upstream_exactly(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port))
    response = http_request(proxy.port, "POST", "/upload", body=b"hello world")
    assert response.status == 200
    [request] = backend.requests
    assert (request.body, request.header("content-length"), request.has("transfer-encoding")) == \
        (b"hello world", "11", False)


def test_chunked_body_and_trailers_reach_the_upstream(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port))
    with HttpClient(proxy.port) as client:
        client.send(build_request("POST", "/chunks", [("Transfer-Encoding", "chunked")]) +
                    b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-checksum: abc\r\n\r\n")
        assert client.read_response().status == 200
    [request] = backend.requests
    assert (request.chunked, request.body, request.trailer("x-checksum")) == \
        (True, b"hello world", "abc")


def test_chunked_response_with_trailers_reaches_curl(remora, upstream):
    backend = upstream(respond_chunked([b"part one, ", b"part two"],
                                       trailers=[("x-trailer", "done")]))
    proxy = remora(proxy_config(backend.port))
    result = curl("--raw", "-i", url(proxy, "/t"))
    assert result.returncode == 0, result.stderr
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert body.endswith(b"\r\n0\r\nx-trailer: done\r\n\r\n")
    assert dechunk(body) == b"part one, part two"


def dechunk(raw: bytes) -> bytes:
    out = b""
    while True:
        size_line, _, raw = raw.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return out
        out += raw[:size]
        raw = raw[size + 2:]


def test_large_bodies_both_directions_are_intact(remora, upstream, tmp_path):
    upload = pattern_bytes(8 << 20, seed=2)
    download = pattern_bytes(8 << 20, seed=3)
    backend = upstream(respond(200, download))
    proxy = remora(proxy_config(backend.port))
    (tmp_path / "up").write_bytes(upload)
    out = tmp_path / "down"
    result = curl("--data-binary", f"@{tmp_path / 'up'}", "-o", str(out), url(proxy, "/big"))
    assert result.returncode == 0, result.stderr
    [request] = backend.requests
    assert (sha256(request.body), sha256(out.read_bytes())) == (sha256(upload), sha256(download))


def test_expect_100_continue_is_answered_by_the_proxy(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port))
    with HttpClient(proxy.port) as client:
        client.send(build_request("POST", "/e", [("Expect", "100-continue"),
                                                 ("Content-Length", "5")]))
        interim = client.read_response(keep_interim=True)
        assert interim.raw_head == b"HTTP/1.1 100 Continue\r\n\r\n"
        client.send(b"hello")
        assert client.read_response().status == 200
    [request] = backend.requests
    assert (request.has("expect"), request.body) == (False, b"hello")


def test_head_response_has_no_body(remora, upstream):
    backend = upstream(respond(200, b"x" * 100))
    proxy = remora(proxy_config(backend.port))
    with HttpClient(proxy.port) as client:
        head = client.request("HEAD", "/h")
        # Any body bytes after the HEAD response would corrupt the next one.
        follow_up = client.request("GET", "/g")
    assert (head.status, head.header("content-length")) == (200, "100")
    assert (follow_up.status, follow_up.body) == (200, b"x" * 100)


def test_204_has_no_body(remora, upstream):
    backend = upstream(respond(204, reason="No Content"))
    proxy = remora(proxy_config(backend.port))
    with HttpClient(proxy.port) as client:
        first = client.request("GET", "/a")
        # Any body bytes after the 204 would corrupt the next response.
        second = client.request("GET", "/b")
    assert (first.status, first.has("content-length"), first.has("transfer-encoding")) == \
        (204, False, False)
    assert (second.status, second.body) == (204, b"")


def test_304_from_nginx_has_no_body(remora, nginx):
    server = nginx({"page.html": INDEX})
    proxy = remora(proxy_config(server.port))
    with HttpClient(proxy.port) as client:
        etag = client.request("GET", "/page.html").header("etag")
        not_modified = client.request("GET", "/page.html", [("If-None-Match", etag)])
        after = client.request("GET", "/page.html")
    assert (not_modified.status, not_modified.body) == (304, b"")
    assert after.body == INDEX


def test_connection_close_is_answered_then_closed(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port))
    with HttpClient(proxy.port) as client:
        response = client.request("GET", "/", [("Connection", "close")])
        assert (response.status, response.header("connection")) == (200, "close")
        assert client.closed_by_peer(timeout=3)


def test_http_10_is_refused_by_default(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port))
    with HttpClient(proxy.port) as client:
        client.send(b"GET / HTTP/1.0\r\n\r\n")
        raw, closed = client.read_until_closed(timeout=3)
    assert raw.startswith(b"HTTP/1.1 426 Upgrade Required\r\n")
    assert closed
    assert backend.connection_count == 0


def test_http_10_works_when_accepted(remora, upstream):
    backend = upstream(respond(200, b"old client"))
    proxy = remora(proxy_config(backend.port, http_protocol_options={"accept_http_10": True}))
    with HttpClient(proxy.port) as client:
        client.send(b"GET /ten HTTP/1.0\r\n\r\n")
        raw, closed = client.read_until_closed(timeout=3)
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n")
    assert raw.endswith(b"\r\n\r\nold client")
    assert closed  # no keep-alive asked for
    assert [r.target for r in backend.requests] == ["/ten"]


def test_hop_by_hop_headers_are_not_forwarded(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port))
    http_request(proxy.port, headers=[("Connection", "keep-alive"), ("Keep-Alive", "timeout=5"),
                                      ("Proxy-Connection", "keep-alive"), ("TE", "gzip"),
                                      ("Upgrade", "websocket"), ("X-End-To-End", "kept")])
    [request] = backend.requests
    forwarded = {name.lower() for (name, _) in request.headers}
    assert forwarded & {"connection", "keep-alive", "proxy-connection", "te", "upgrade"} == set()
    assert request.header("x-end-to-end") == "kept"


def test_te_trailers_is_forwarded(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port))
    http_request(proxy.port, headers=[("TE", "trailers")])
    assert backend.requests[0].header_values("te") == ["trailers"]


def test_unconfigured_upgrade_is_refused_with_403(remora, upstream):
    backend = upstream(switch_protocols_and_echo())
    proxy = remora(proxy_config(backend.port))
    response = http_request(proxy.port, headers=[("Connection", "Upgrade"),
                                                 ("Upgrade", "websocket")])
    assert response.status == 403
    assert backend.connection_count == 0


def test_x_forwarded_for_is_not_added_without_use_remote_address(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port))
    http_request(proxy.port)
    [request] = backend.requests
    assert (request.header_values("x-forwarded-for"), request.header("x-forwarded-proto")) == \
        ([], "http")


def test_x_forwarded_for_is_appended_with_use_remote_address(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port, use_remote_address=True))
    http_request(proxy.port, path="/none")
    http_request(proxy.port, path="/some", headers=[("X-Forwarded-For", "192.0.2.7")])
    first, second = backend.requests
    assert first.header_values("x-forwarded-for") == ["127.0.0.1"]
    assert second.header_values("x-forwarded-for") == ["192.0.2.7,127.0.0.1"]
    assert (first.header("x-forwarded-proto"), second.header("x-forwarded-proto")) == \
        ("http", "http")


def test_x_request_id_is_generated_when_absent(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port))
    http_request(proxy.port)
    http_request(proxy.port)
    ids = [r.header("x-request-id") for r in backend.requests]
    assert all(UUID4.match(i or "") for i in ids), ids
    assert ids[0] != ids[1]


def test_x_request_id_of_an_internal_client_is_kept(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port, use_remote_address=True))
    http_request(proxy.port, headers=[("X-Request-Id", "client-chosen-id")])
    assert backend.requests[0].header_values("x-request-id") == ["client-chosen-id"]


def test_websocket_upgrade_tunnels_bytes_both_ways(remora, upstream):
    backend = upstream(switch_protocols_and_echo())
    proxy = remora(proxy_config(backend.port, upgrade_configs=[{"upgrade_type": "websocket"}]))
    with HttpClient(proxy.port) as client:
        client.send(build_request("GET", "/ws", [("Connection", "Upgrade"),
                                                 ("Upgrade", "websocket"),
                                                 ("Sec-WebSocket-Version", "13")]))
        switched = client.read_response()
        assert (switched.status, switched.header("upgrade")) == (101, "websocket")
        echoed = []
        for message in (b"first frame", b"\x00\x01binary\xff", b"last"):
            client.send(message)
            deadline = time.monotonic() + 3
            while len(client.reader.buf) < len(message):
                assert client.reader.fill(deadline)
            echoed.append(client.reader.take_buffered())
    assert echoed == [b"first frame", b"\x00\x01binary\xff", b"last"]
    [request] = backend.requests
    assert (request.header("upgrade"), request.header("connection")) == ("websocket", "upgrade")


def test_requests_pipelined_after_connection_close_are_not_forwarded(remora, upstream):
    backend = upstream(echo_path())
    proxy = remora(proxy_config(backend.port))
    with HttpClient(proxy.port) as client:
        client.send(build_request("GET", "/one") +
                    build_request("GET", "/two", [("Connection", "close")]) +
                    build_request("GET", "/three"))
        bodies = [client.read_response().body for _ in range(2)]
        raw, closed = client.read_until_closed(timeout=3)
    assert (bodies, raw, closed) == ([b"/one", b"/two"], b"", True)
    assert [r.target for r in backend.requests] == ["/one", "/two"]


def test_absolute_form_target_is_forwarded_in_origin_form(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port))
    with HttpClient(proxy.port) as client:
        client.send(b"GET http://absolute.test/path?q=1 HTTP/1.1\r\nHost: ignored.test\r\n\r\n")
        assert client.read_response().status == 200
    [request] = backend.requests
    assert (request.target, request.header_values("host")) == ("/path?q=1", ["absolute.test"])


def test_close_delimited_upstream_response_is_forwarded_in_full(remora, upstream):
    def http10_style(conn, request):
        conn.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until the close")
        conn.close()
    backend = upstream(http10_style)
    proxy = remora(proxy_config(backend.port))
    response = http_request(proxy.port)
    assert (response.status, response.body) == (200, b"body until the close")


def test_client_half_close_after_a_request_still_gets_the_response(remora, upstream):
    backend = upstream(delayed(0.2, respond(200, b"worth the wait")))
    proxy = remora(proxy_config(backend.port))
    with HttpClient(proxy.port) as client:
        client.send(build_request("GET", "/"))
        client.shutdown_write()
        response = client.read_response()
        assert (response.status, response.body) == (200, b"worth the wait")
        assert client.closed_by_peer(timeout=3)


def test_client_abort_mid_body_closes_the_upstream_connection(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port))
    with HttpClient(proxy.port) as client:
        client.send(build_request("POST", "/", [("Content-Length", "100")]) + b"only ten..")
        assert wait_until(lambda: backend.connection_count == 1, 3)
    # The half-sent request must not stay in a pooled connection: the upstream sees EOF,
    # and the next request gets a connection of its own.
    assert http_request(proxy.port, path="/next").status == 200
    assert backend.connection_count == 2
    assert [r.target for r in backend.requests] == ["/next"]


def test_refused_upgrade_is_answered_and_the_connection_closed(remora, upstream):
    backend = upstream(respond(403, b"no websockets here", reason="Forbidden"))
    proxy = remora(proxy_config(backend.port, upgrade_configs=[{"upgrade_type": "websocket"}]))
    with HttpClient(proxy.port) as client:
        response = client.request("GET", "/ws", [("Connection", "Upgrade"),
                                                 ("Upgrade", "websocket")])
        assert (response.status, response.body) == (403, b"no websockets here")
        assert client.closed_by_peer(timeout=3)


def test_concurrent_clients_each_get_their_own_response(remora, upstream):
    backend = upstream(echo_path())
    proxy = remora(proxy_config(backend.port), concurrency=2)
    results: dict[int, list[bytes]] = {}

    def client_thread(n: int) -> None:
        with HttpClient(proxy.port, timeout=10) as client:
            results[n] = [client.request("GET", f"/c{n}/r{i}").body for i in range(5)]

    threads = [threading.Thread(target=client_thread, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results == {n: [f"/c{n}/r{i}".encode() for i in range(5)] for n in range(40)}


def test_small_buffer_limits_still_deliver_large_bodies_to_a_slow_reader(remora, upstream,
                                                                          tmp_path):
    download = pattern_bytes(2 << 20, seed=5)
    backend = upstream(respond(200, download))
    config = proxy_config(backend.port).replace(
        '"name": "http", "address"', '"name": "http", "per_connection_buffer_limit_bytes": 16384, '
        '"address"')
    assert "per_connection_buffer_limit_bytes" in config
    proxy = remora(config)
    out = tmp_path / "down"
    result = curl("--limit-rate", "2M", "-o", str(out), url(proxy, "/big"))
    assert result.returncode == 0, result.stderr
    assert sha256(out.read_bytes()) == sha256(download)
