"""envoy.filters.network.tcp_proxy against a TCP echo server."""

from __future__ import annotations

import socket
import threading
import time

from harness import (LOOPBACK, SocketReader, bootstrap, free_port, pattern_bytes, static_cluster,
                     tcp_listener)


def tcp_config(upstream_port: int, **options) -> str:
    return bootstrap([tcp_listener("echo", **options)], [static_cluster("echo", upstream_port)])


def connect(port: int) -> tuple[socket.socket, SocketReader]:
    sock = socket.create_connection((LOOPBACK, port), timeout=5)
    return sock, SocketReader(sock)


def read_exactly(reader: SocketReader, size: int, timeout: float = 5) -> bytes:
    data = reader.read_exact(size, time.monotonic() + timeout)
    assert data is not None, f"closed after {len(reader.buf)} of {size} bytes"
    return data


def test_bytes_round_trip(remora, echo_server):
    server = echo_server()
    proxy = remora(tcp_config(server.port))
    sock, reader = connect(proxy.port)
    with sock:
        sock.sendall(b"hello")
        assert read_exactly(reader, 5) == b"hello"
        big = pattern_bytes(1 << 20, seed=4)
        sock.sendall(big)
        assert read_exactly(reader, len(big), timeout=20) == big


def test_half_close_still_delivers_the_upstreams_last_bytes(remora, echo_server):
    server = echo_server(final=b"BYE")
    proxy = remora(tcp_config(server.port))
    sock, reader = connect(proxy.port)
    with sock:
        sock.sendall(b"abc")
        assert read_exactly(reader, 3) == b"abc"
        sock.shutdown(socket.SHUT_WR)
        assert reader.read_to_eof(time.monotonic() + 5) == b"BYE"


def test_idle_timeout_closes_both_sides(remora, echo_server):
    server = echo_server()
    proxy = remora(tcp_config(server.port, idle_timeout="0.5s"))
    sock, reader = connect(proxy.port)
    with sock:
        sock.sendall(b"ping")
        assert read_exactly(reader, 4) == b"ping"
        started = time.monotonic()
        assert reader.read_to_eof(time.monotonic() + 5) == b""
        elapsed = time.monotonic() - started
    assert elapsed >= 0.45


def test_refused_upstream_closes_the_downstream(remora):
    proxy = remora(tcp_config(free_port()))  # nothing listens there
    sock, reader = connect(proxy.port)
    with sock:
        try:
            sock.sendall(b"anyone?")
        except OSError:
            pass
        assert reader.read_to_eof(time.monotonic() + 5) == b""


def test_upstream_close_is_propagated_after_its_last_bytes(remora):
    banner = socket.socket()
    banner.bind((LOOPBACK, 0))
    banner.listen(1)

    def serve_once() -> None:
        banner.settimeout(5)
        try:
            conn, _ = banner.accept()
        except OSError:
            return
        with conn:
            conn.sendall(b"220 banner then goodbye\r\n")

    thread = threading.Thread(target=serve_once, daemon=True)
    thread.start()
    try:
        proxy = remora(tcp_config(banner.getsockname()[1]))
        sock, reader = connect(proxy.port)
        with sock:
            assert reader.read_to_eof(time.monotonic() + 5) == b"220 banner then goodbye\r\n"
    finally:
        thread.join(timeout=6)
        banner.close()
