"""envoy.filters.network.rbac in front of tcp_proxy: the verdict on a connection's first
bytes (ALLOW and DENY by client address), a denied connection closed before any upstream
connect, the access log (the RBAC response flag, Envoy's termination details in
%CONNECTION_TERMINATION_DETAILS% and %RESPONSE_CODE_DETAILS%, the verdicts in
%DYNAMIC_METADATA(envoy.filters.network.rbac:...)%), exact <stat_prefix>.rbac.* counters
in /stats and Prometheus, shadow rules counted but never enforced, and config errors."""

from __future__ import annotations

import re
import socket
import time

from harness import (LOOPBACK, ROUTER_FILTER, SocketReader, bootstrap, http_listener, route_to,
                     run_remora, static_cluster, tcp_listener, virtual_host)
from telemetry_support import (file_access_log, lines_after_quiet, prometheus_value, scrape,
                               wait_for_stats)

RBAC_NAME = "envoy.filters.network.rbac"
RBAC_TYPE = "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC"
LOG_FORMAT = {"text_format_source": {"inline_string": (
    "%BYTES_RECEIVED% %BYTES_SENT% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% "
    "%CONNECTION_TERMINATION_DETAILS% "
    "%DYNAMIC_METADATA(envoy.filters.network.rbac:enforced_effective_policy_id)% "
    "%DYNAMIC_METADATA(envoy.filters.network.rbac:enforced_engine_result)% "
    "%DYNAMIC_METADATA(envoy.filters.network.rbac:shadow_effective_policy_id)% "
    "%DYNAMIC_METADATA(envoy.filters.network.rbac:shadow_engine_result)% "
    "%DYNAMIC_METADATA(envoy.filters.http.rbac:enforced_engine_result)%\n")}}
ANY = [{"any": True}]


def cidr(prefix: str, length: int) -> dict:
    return {"address_prefix": prefix, "prefix_len": length}


def policy(name: str, principal: dict) -> dict:
    return {name: {"permissions": ANY, "principals": [principal]}}


def rbac_proxy_config(upstream_port: int, rbac: dict, log_path) -> str:
    listener = tcp_listener("echo", access_log=[file_access_log(log_path, LOG_FORMAT)])
    rbac_filter = {"name": RBAC_NAME, "typed_config": {"@type": RBAC_TYPE, **rbac}}
    listener["filter_chains"][0]["filters"].insert(0, rbac_filter)
    return bootstrap([listener], [static_cluster("echo", upstream_port)])


def rbac_stats(allowed: int, denied: int, shadow_allowed: int, shadow_denied: int) -> dict:
    """Envoy roots them at the RBAC filter's own stat_prefix ("tcp_rbac."), not the
    tcp_proxy's."""
    return {"tcp_rbac.rbac.allowed": allowed, "tcp_rbac.rbac.denied": denied,
            "tcp_rbac.rbac.shadow_allowed": shadow_allowed,
            "tcp_rbac.rbac.shadow_denied": shadow_denied}


def prometheus_rbac(proxy) -> dict:
    exposition = scrape(proxy, "filter=rbac")
    return {name: prometheus_value(exposition, f"envoy_rbac_{name}", envoy_rbac_prefix="tcp_rbac")
            for name in ("allowed", "denied", "shadow_allowed", "shadow_denied")}


def test_allowed_client_is_proxied_and_shadow_deny_is_only_counted(remora, echo_server,
                                                                    tmp_path):
    server = echo_server()
    log = tmp_path / "access.log"
    proxy = remora(rbac_proxy_config(server.port, {
        "stat_prefix": "tcp_rbac.",
        "rules": {"action": "ALLOW",
                  "policies": policy("loopback-client", {"remote_ip": cidr("127.0.0.1", 32)})},
        "shadow_rules": {"action": "DENY",
                         "policies": policy("shadow-everyone", {"any": True})},
    }, log))

    for _ in range(2):
        with socket.create_connection((LOOPBACK, proxy.port), timeout=5) as sock:
            reader = SocketReader(sock)
            # Checked once, on the first bytes: later ones flow without a verdict.
            for chunk in (b"hello", b"again"):
                sock.sendall(chunk)
                assert reader.read_exact(len(chunk), time.monotonic() + 5) == chunk

    allowed_line = "10 10 - - - loopback-client allowed shadow-everyone denied -"
    assert lines_after_quiet(log, 2) == [allowed_line, allowed_line]
    expected = {**rbac_stats(allowed=2, denied=0, shadow_allowed=0, shadow_denied=2),
                "cluster.echo.upstream_cx_total": 2}
    assert wait_for_stats(proxy, expected) == expected
    assert prometheus_rbac(proxy) == {"allowed": 2, "denied": 0, "shadow_allowed": 0,
                                      "shadow_denied": 2}


def test_denied_client_is_closed_without_an_upstream_connection(remora, tmp_path):
    upstream = socket.socket()
    upstream.bind((LOOPBACK, 0))
    upstream.listen(4)
    log = tmp_path / "access.log"
    with upstream:
        proxy = remora(rbac_proxy_config(upstream.getsockname()[1], {
            "stat_prefix": "tcp_rbac.",
            "enforcement_type": "ONE_TIME_ON_FIRST_BYTE",
            "rules": {"action": "DENY",
                      "policies": policy("loopback net", {"remote_ip": cidr("127.0.0.0", 8)})},
            "shadow_rules": {"action": "ALLOW", "policies": policy(
                "not-ten", {"not_id": {"direct_remote_ip": cidr("10.0.0.0", 8)}})},
        }, log))

        with socket.create_connection((LOOPBACK, proxy.port), timeout=5) as sock:
            sock.sendall(b"let me in")
            assert SocketReader(sock).read_to_eof(time.monotonic() + 5) == b""

        details = "rbac_access_denied_matched_policy[loopback_net]"
        assert lines_after_quiet(log, 1) == [
            f"9 0 RBAC {details} {details} loopback net denied not-ten allowed -"]
        expected = {**rbac_stats(allowed=0, denied=1, shadow_allowed=1, shadow_denied=0),
                    "cluster.echo.upstream_cx_total": 0, "tcp.tcp.downstream_cx_total": 1}
        assert wait_for_stats(proxy, expected) == expected
        upstream.setblocking(False)
        try:
            upstream.accept()
            raise AssertionError("the upstream saw a connection")
        except BlockingIOError:
            pass


def validate_error(tmp_path, config: str) -> str:
    path = tmp_path / "bad-rbac.yaml"
    path.write_text(config.replace("$admin_port", "0"))
    result = run_remora("--mode", "validate", "-c", str(path))
    assert result.returncode == 1
    return result.stderr.removeprefix(str(path) + ":")


def test_config_errors_name_their_location(tmp_path):
    continuous = rbac_proxy_config(1, {"stat_prefix": "x.", "enforcement_type": "CONTINUOUS"},
                                   tmp_path / "unused.log")
    assert re.fullmatch(
        r"\d+:\d+: static_resources\.listeners\[0\]\.filter_chains\[0\]\.filters\[0\]"
        r"\.typed_config\.enforcement_type: enforcement_type CONTINUOUS is not supported\n",
        validate_error(tmp_path, continuous))

    http = http_listener([virtual_host([route_to("echo")])], http_filters=[ROUTER_FILTER])
    http["filter_chains"][0]["filters"].insert(0, {
        "name": RBAC_NAME, "typed_config": {"@type": RBAC_TYPE, "stat_prefix": "x."}})
    assert re.fullmatch(
        r"\d+:\d+: static_resources\.listeners\[0\]\.filter_chains\[0\]\.filters\[0\]"
        r"\.name: envoy\.filters\.network\.rbac in front of "
        r"envoy\.filters\.network\.http_connection_manager is not supported \(use "
        r"envoy\.filters\.http\.rbac in its http_filters\)\n",
        validate_error(tmp_path, bootstrap([http], [static_cluster("echo", 1)])))
