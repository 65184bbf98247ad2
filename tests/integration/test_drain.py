"""Graceful drain on SIGTERM, and the health_check filter that load balancers poll."""

from __future__ import annotations

import signal
import socket
import time

import pytest

from harness import (LOOPBACK, ROUTER_FILTER, HttpClient, SocketReader, bootstrap, build_request,
                     delayed, http_listener, http_request, never_answer, proxy_config, respond,
                     route_to, static_cluster, tcp_listener, virtual_host)

SLOW_RESPONSE_S = 1.0
SIGNAL_AT_S = 0.2


@pytest.fixture
def draining(remora, upstream):
    """A remora whose only request is in flight to a slow upstream when SIGTERM arrives."""
    backend = upstream(delayed(SLOW_RESPONSE_S, respond(200, b"slow but complete")))
    proxy = remora(proxy_config(backend.port), drain_time_s=5)
    client = HttpClient(proxy.port, timeout=10)
    client.send(build_request("GET", "/slow"))
    assert backend.wait_for_requests(1)
    time.sleep(SIGNAL_AT_S)
    proxy.send_signal(signal.SIGTERM)
    time.sleep(0.2)  # let the workers start draining
    yield proxy, client
    client.close()


def test_in_flight_request_completes_with_connection_close(draining):
    proxy, client = draining
    response = client.read_response()
    assert (response.status, response.body, response.header("connection")) == \
        (200, b"slow but complete", "close")
    assert client.closed_by_peer(timeout=3)
    assert proxy.wait(timeout=10) == 0


def test_new_connections_are_refused_while_draining(draining):
    proxy, client = draining
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((LOOPBACK, proxy.port), timeout=2).close()
    assert proxy.running()  # still draining: the refusal is not the process being gone
    assert client.read_response().status == 200


def test_ready_is_503_draining_while_draining(draining):
    proxy, client = draining
    response = proxy.admin("GET", "/ready")
    assert (response.status, response.body) == (503, b"DRAINING\n")
    assert client.read_response().status == 200


def test_second_signal_ends_the_drain_at_once(remora, upstream):
    backend = upstream(never_answer())
    proxy = remora(proxy_config(backend.port, route_options={"timeout": "0s"}), drain_time_s=30)
    with HttpClient(proxy.port) as client:
        client.send(build_request("GET", "/stuck"))
        assert backend.wait_for_requests(1)
        proxy.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        started = time.monotonic()
        proxy.send_signal(signal.SIGTERM)
        assert proxy.wait(timeout=10) == 0
        assert time.monotonic() - started < 5  # not the 30 s drain time
        _, closed = client.read_until_closed(timeout=3)
        assert closed


def test_requests_still_in_flight_at_the_drain_deadline_are_cut(remora, upstream):
    backend = upstream(never_answer())
    proxy = remora(proxy_config(backend.port, route_options={"timeout": "0s"}), drain_time_s=1)
    with HttpClient(proxy.port) as client:
        client.send(build_request("GET", "/stuck"))
        assert backend.wait_for_requests(1)
        proxy.send_signal(signal.SIGTERM)
        assert proxy.wait(timeout=10) == 0
        _, closed = client.read_until_closed(timeout=3)
        assert closed


def test_tcp_proxy_connections_are_closed_at_the_drain_deadline(remora, echo_server):
    server = echo_server()
    proxy = remora(bootstrap([tcp_listener("echo")], [static_cluster("echo", server.port)]),
                   drain_time_s=1)
    sock = socket.create_connection((LOOPBACK, proxy.port), timeout=5)
    with sock:
        sock.sendall(b"x")
        assert sock.recv(1) == b"x"
        started = time.monotonic()
        proxy.send_signal(signal.SIGTERM)
        assert proxy.wait(timeout=10) == 0
        assert time.monotonic() - started >= 0.9  # a byte stream is left alone until then
        reader = SocketReader(sock)
        assert reader.read_to_eof(time.monotonic() + 3) == b""


def test_idle_connections_are_closed_at_once_and_the_process_exits(remora, upstream):
    backend = upstream()
    proxy = remora(proxy_config(backend.port), drain_time_s=30)
    with HttpClient(proxy.port) as client:
        assert client.request("GET", "/").status == 200
        started = time.monotonic()
        proxy.send_signal(signal.SIGTERM)
        assert client.closed_by_peer(timeout=5)
        assert proxy.wait(timeout=10) == 0
    assert time.monotonic() - started < 5  # not the 30 s drain time


HEALTH_CHECK_FILTER = {
    "name": "envoy.filters.http.health_check",
    "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck",
        "pass_through_mode": False,
        "headers": [{"name": ":path", "string_match": {"exact": "/healthz"}}],
    },
}


@pytest.fixture
def health_checked(remora, upstream):
    backend = upstream(respond(200, b"from upstream"))
    config = bootstrap(
        [http_listener([virtual_host([route_to("backend")])],
                       http_filters=[HEALTH_CHECK_FILTER, ROUTER_FILTER])],
        [static_cluster("backend", backend.port)])
    return remora(config), backend


def test_health_check_is_answered_locally(health_checked):
    proxy, backend = health_checked
    response = http_request(proxy.port, path="/healthz")
    assert (response.status, response.has("x-envoy-immediate-health-check-fail")) == (200, False)
    assert backend.raw_bytes() == b""


def test_healthcheck_fail_makes_health_checks_503(health_checked):
    proxy, backend = health_checked
    assert proxy.admin("POST", "/healthcheck/fail").status == 200
    response = http_request(proxy.port, path="/healthz")
    assert (response.status, response.header("x-envoy-immediate-health-check-fail")) == \
        (503, "true")
    assert backend.raw_bytes() == b""


def test_other_traffic_still_flows_while_health_checks_fail(health_checked):
    proxy, backend = health_checked
    assert proxy.admin("POST", "/healthcheck/fail").status == 200
    assert http_request(proxy.port, path="/work").body == b"from upstream"


def test_other_responses_carry_the_immediate_fail_header_while_failing(health_checked):
    # Envoy sets it on all responses, so a downstream Envoy stops using this host at once.
    proxy, _ = health_checked
    assert http_request(proxy.port, path="/work").has("x-envoy-immediate-health-check-fail") \
        is False
    assert proxy.admin("POST", "/healthcheck/fail").status == 200
    response = http_request(proxy.port, path="/work")
    assert response.header("x-envoy-immediate-health-check-fail") == "true"


def test_healthcheck_ok_restores_health_checks(health_checked):
    proxy, _ = health_checked
    assert proxy.admin("POST", "/healthcheck/fail").status == 200
    assert proxy.admin("POST", "/healthcheck/ok").status == 200
    assert http_request(proxy.port, path="/healthz").status == 200


def test_healthcheck_fail_requires_post(health_checked):
    proxy, _ = health_checked
    response = proxy.admin("GET", "/healthcheck/fail")
    assert (response.status, response.body) == (405, b"This endpoint requires POST.\n")
    assert http_request(proxy.port, path="/healthz").status == 200  # state unchanged
