"""The downstream client from x-forwarded-for, end to end with curl: with
use_remote_address false (Envoy's default) the rightmost entry (after
xff_num_trusted_hops) is the client RBAC's remote_ip matches and
%DOWNSTREAM_REMOTE_ADDRESS% prints with port 0, while %DOWNSTREAM_DIRECT_REMOTE_ADDRESS%
stays the socket peer; with use_remote_address true the peer is appended to
x-forwarded-for and is the client unless hops are trusted. The upstream sees Envoy's
x-forwarded-for, x-envoy-internal and x-envoy-external-address."""

from __future__ import annotations

from typing import Optional

from harness import (LOOPBACK, ROUTER_FILTER, bootstrap, curl, free_port, http_listener,
                     respond, route_to, static_cluster, virtual_host)
from telemetry_support import file_access_log, lines_after_quiet

RBAC_TYPE = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC"
# Only clients in 203.0.113.0/24, as the connection manager determined them.
FORWARDED_CLIENTS_ONLY = {
    "name": "envoy.filters.http.rbac",
    "typed_config": {"@type": RBAC_TYPE, "rules": {"action": "ALLOW", "policies": {
        "documentation-net": {"permissions": [{"any": True}], "principals": [
            {"remote_ip": {"address_prefix": "203.0.113.0", "prefix_len": 24}}]}}}},
}
ADDRESS_FORMAT = {"text_format_source": {"inline_string": (
    "%REQ(:PATH)% %RESPONSE_CODE% %DOWNSTREAM_REMOTE_ADDRESS% "
    "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %DOWNSTREAM_DIRECT_REMOTE_ADDRESS% "
    "%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT% \"%REQ(X-FORWARDED-FOR)%\"\n")}}
FORWARDING_HEADERS = ("x-forwarded-for", "x-envoy-internal", "x-envoy-external-address")


def start(remora, upstream, log, **hcm_options):
    backend = upstream(respond(200, b"ok"))
    listener = http_listener([virtual_host([route_to("backend")])],
                             http_filters=[FORWARDED_CLIENTS_ONLY, ROUTER_FILTER],
                             access_log=[file_access_log(log, ADDRESS_FORMAT)], **hcm_options)
    return remora(bootstrap([listener], [static_cluster("backend", backend.port)])), backend


def get(proxy, path: str, xff: Optional[str] = None) -> tuple[int, int]:
    """curl from a known local port; returns (status, that port)."""
    port = free_port()
    args = ["-o", "/dev/null", "-w", "%{http_code}", "--local-port", str(port)]
    if xff is not None:
        args += ["-H", f"x-forwarded-for: {xff}"]
    result = curl(*args, f"http://{LOOPBACK}:{proxy.port}{path}")
    assert result.returncode == 0, result.stderr
    return int(result.stdout), port


def seen_headers(backend, index: int) -> dict:
    request = backend.requests[index]
    return {name: request.header_values(name) for name in FORWARDING_HEADERS}


def test_without_use_remote_address_the_client_is_the_rightmost_xff_entry(remora, upstream,
                                                                         tmp_path):
    log = tmp_path / "access.log"
    proxy, backend = start(remora, upstream, log)

    status_one, port_one = get(proxy, "/one", "203.0.113.7")
    status_peer, port_peer = get(proxy, "/peer")
    status_many, port_many = get(proxy, "/many", "198.51.100.1, 203.0.113.9")
    status_last, port_last = get(proxy, "/last", "203.0.113.9, 198.51.100.1")
    status_junk, port_junk = get(proxy, "/junk", "203.0.113.9, unknown")
    status_v6, port_v6 = get(proxy, "/v6", "2001:DB8::7")
    assert [status_one, status_peer, status_many, status_last, status_junk, status_v6] == \
        [200, 403, 200, 403, 403, 403]

    assert lines_after_quiet(log, 6) == [
        f'/one 200 203.0.113.7:0 203.0.113.7 127.0.0.1:{port_one} 127.0.0.1 "203.0.113.7"',
        f'/peer 403 127.0.0.1:{port_peer} 127.0.0.1 127.0.0.1:{port_peer} 127.0.0.1 "-"',
        f'/many 200 203.0.113.9:0 203.0.113.9 127.0.0.1:{port_many} 127.0.0.1 '
        '"198.51.100.1, 203.0.113.9"',
        f'/last 403 198.51.100.1:0 198.51.100.1 127.0.0.1:{port_last} 127.0.0.1 '
        '"203.0.113.9, 198.51.100.1"',
        f'/junk 403 127.0.0.1:{port_junk} 127.0.0.1 127.0.0.1:{port_junk} 127.0.0.1 '
        '"203.0.113.9, unknown"',
        f'/v6 403 [2001:db8::7]:0 2001:db8::7 127.0.0.1:{port_v6} 127.0.0.1 "2001:DB8::7"',
    ]
    # The allowed /one and /many: x-forwarded-for passes untouched; an external client
    # is no internal request and, without use_remote_address, no edge request either.
    assert [seen_headers(backend, i) for i in range(2)] == [
        {"x-forwarded-for": ["203.0.113.7"], "x-envoy-internal": [],
         "x-envoy-external-address": []},
        {"x-forwarded-for": ["198.51.100.1, 203.0.113.9"], "x-envoy-internal": [],
         "x-envoy-external-address": []},
    ]


def test_trusted_hops_skip_entries_from_the_right(remora, upstream, tmp_path):
    log = tmp_path / "access.log"
    proxy, _ = start(remora, upstream, log, xff_num_trusted_hops=1)
    status_hop, port_hop = get(proxy, "/hop", "203.0.113.7, 10.0.0.1")
    status_short, port_short = get(proxy, "/short", "203.0.113.7")
    assert [status_hop, status_short] == [200, 403]
    assert lines_after_quiet(log, 2) == [
        f'/hop 200 203.0.113.7:0 203.0.113.7 127.0.0.1:{port_hop} 127.0.0.1 '
        '"203.0.113.7, 10.0.0.1"',
        f'/short 403 127.0.0.1:{port_short} 127.0.0.1 127.0.0.1:{port_short} 127.0.0.1 '
        '"203.0.113.7"',
    ]


def test_use_remote_address_appends_the_peer_and_trusts_it(remora, upstream, tmp_path):
    log = tmp_path / "access.log"
    proxy, backend = start(remora, upstream, log, use_remote_address=True)
    status_xff, port_xff = get(proxy, "/xff", "203.0.113.7")
    status_none, port_none = get(proxy, "/none")
    assert [status_xff, status_none] == [403, 403]
    assert lines_after_quiet(log, 2) == [
        f'/xff 403 127.0.0.1:{port_xff} 127.0.0.1 127.0.0.1:{port_xff} 127.0.0.1 '
        '"203.0.113.7,127.0.0.1"',
        f'/none 403 127.0.0.1:{port_none} 127.0.0.1 127.0.0.1:{port_none} 127.0.0.1 '
        '"127.0.0.1"',
    ]
    assert backend.requests == []


def test_use_remote_address_with_a_trusted_hop_marks_the_edge(remora, upstream, tmp_path):
    log = tmp_path / "access.log"
    proxy, backend = start(remora, upstream, log, use_remote_address=True,
                           xff_num_trusted_hops=1)
    status, port = get(proxy, "/edge", "198.51.100.1, 203.0.113.7")
    assert status == 200
    assert lines_after_quiet(log, 1) == [
        f'/edge 200 203.0.113.7:0 203.0.113.7 127.0.0.1:{port} 127.0.0.1 '
        '"198.51.100.1, 203.0.113.7,127.0.0.1"']
    assert seen_headers(backend, 0) == {
        "x-forwarded-for": ["198.51.100.1, 203.0.113.7,127.0.0.1"], "x-envoy-internal": [],
        "x-envoy-external-address": ["203.0.113.7"]}
