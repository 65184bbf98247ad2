"""Clusters: discovery types, load balancing, connect timeouts, per-host counters.

Every endpoint is on loopback; DNS names resolve through /etc/hosts ("localhost").
"""

import socket

from harness import (LOOPBACK, bootstrap, http_listener, http_request, route_to, static_cluster,
                     virtual_host, wait_until)
from telemetry_support import stat


def dns_cluster(name, kind, *ports, **extra):
    endpoints = [{"endpoint": {"address": {"socket_address": {"address": "localhost",
                                                              "port_value": p}}}}
                 for p in ports]
    cluster = {"name": name, "type": kind, "connect_timeout": "1s",
               "dns_lookup_family": "V4_ONLY",
               "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": endpoints}]}}
    cluster.update(extra)
    return cluster


def single_route_config(cluster, route_options=None):
    routes = [route_to(cluster["name"], **(route_options or {}))]
    return bootstrap([http_listener([virtual_host(routes)])], [cluster])


def per_upstream_counts(upstreams):
    return [len(u.requests) for u in upstreams]


def test_strict_dns_resolves_and_routes(remora, upstream):
    up = upstream()
    proxy = remora(single_route_config(dns_cluster("dns", "STRICT_DNS", up.port)))
    response = http_request(proxy.port, path="/via-dns")
    assert response.status == 200
    assert [r.target for r in up.requests] == ["/via-dns"]
    clusters = proxy.admin("GET", "/clusters").text
    assert f"dns::127.0.0.1:{up.port}::hostname::localhost\n" in clusters
    assert stat(proxy, "cluster.dns.membership_total") == 1


def test_strict_dns_refreshes_periodically(remora, upstream):
    up = upstream()
    proxy = remora(single_route_config(
        dns_cluster("dns", "STRICT_DNS", up.port, dns_refresh_rate="0.1s")))
    assert wait_until(lambda: stat(proxy, "cluster.dns.update_attempt") >= 4, timeout=5)
    assert stat(proxy, "cluster.dns.update_failure") == 0
    # The answer never changes, so no refresh rebuilt the host set.
    assert stat(proxy, "cluster.dns.update_no_rebuild") >= 3


def test_auto_host_rewrite_uses_the_dns_name(remora, upstream):
    up = upstream()
    proxy = remora(single_route_config(dns_cluster("dns", "STRICT_DNS", up.port),
                                       {"auto_host_rewrite": True}))
    assert http_request(proxy.port, host="original.example").status == 200
    assert up.requests[0].header("host") == "localhost"


def test_logical_dns_uses_one_address(remora, upstream):
    up = upstream()
    proxy = remora(single_route_config(dns_cluster("logical", "LOGICAL_DNS", up.port)))
    for _ in range(3):
        assert http_request(proxy.port).status == 200
    assert len(up.requests) == 3
    hosts = [l for l in proxy.admin("GET", "/clusters").text.splitlines() if "::weight::" in l]
    assert hosts == [f"logical::127.0.0.1:{up.port}::weight::1"]


def test_round_robin_alternates_exactly(remora, upstream):
    ups = [upstream(), upstream()]
    cluster = static_cluster("rr", *(u.port for u in ups), lb_policy="ROUND_ROBIN")
    proxy = remora(single_route_config(cluster))
    for _ in range(10):
        assert http_request(proxy.port).status == 200
    assert per_upstream_counts(ups) == [5, 5]


def test_weighted_round_robin_follows_load_balancing_weight(remora, upstream):
    ups = [upstream(), upstream()]
    endpoints = [{"endpoint": {"address": {"socket_address": {"address": LOOPBACK, "port_value": u.port}}},
                  "load_balancing_weight": w} for u, w in zip(ups, (3, 1))]
    cluster = {"name": "wrr", "type": "STATIC", "connect_timeout": "1s",
               "load_assignment": {"cluster_name": "wrr", "endpoints": [{"lb_endpoints": endpoints}]}}
    proxy = remora(single_route_config(cluster))
    for _ in range(8):
        assert http_request(proxy.port).status == 200
    assert per_upstream_counts(ups) == [6, 2]


def test_random_spreads_over_hosts(remora, upstream):
    ups = [upstream(), upstream()]
    proxy = remora(single_route_config(static_cluster("rnd", *(u.port for u in ups),
                                                      lb_policy="RANDOM")))
    for _ in range(60):
        assert http_request(proxy.port).status == 200
    counts = per_upstream_counts(ups)
    assert sum(counts) == 60
    # P(all 60 on one host) = 2 * 2^-60: both must have been picked.
    assert min(counts) > 0, counts


def test_connect_timeout_is_503_uf_and_counted(remora):
    # A listener whose accept queue is full drops further SYNs: connects hang.
    stuck = socket.socket()
    stuck.bind((LOOPBACK, 0))
    stuck.listen(0)
    port = stuck.getsockname()[1]
    filler = socket.create_connection((LOOPBACK, port), timeout=1)
    try:
        proxy = remora(single_route_config(static_cluster("slow", port, connect_timeout="0.3s")))
        response = http_request(proxy.port)
        assert response.status == 503
        assert response.text == ("upstream connect error or disconnect/reset before headers. "
                                 "reset reason: connection timeout")
        assert stat(proxy, "cluster.slow.upstream_cx_connect_timeout") == 1
        assert stat(proxy, "cluster.slow.upstream_cx_connect_fail") == 1
        assert stat(proxy, "cluster.slow.upstream_rq_503") == 1
    finally:
        filler.close()
        stuck.close()


def test_clusters_counts_per_host_requests(remora, upstream):
    ups = [upstream(), upstream()]
    proxy = remora(single_route_config(static_cluster("rr", *(u.port for u in ups))))
    for _ in range(4):
        assert http_request(proxy.port).status == 200
    text = proxy.admin("GET", "/clusters").text
    for u in ups:
        assert f"rr::127.0.0.1:{u.port}::rq_total::2\n" in text
        assert f"rr::127.0.0.1:{u.port}::rq_success::2\n" in text
