"""/stats/prometheus is valid text format 0.0.4 (promtool, and a layout check of our
own) and a real Prometheus server scraping it sees exactly the traffic sent."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from harness import (bootstrap, exchange, free_port, http_listener, http_request, respond,
                     route_to, static_cluster, tcp_listener, virtual_host)
from telemetry_support import (MALFORMED_REQUEST, PrometheusServer, is_number,
                               promtool_check_metrics, scalar_value, scrape, wait_for_stats)

REQUESTS = 20
# promtool's lint complaints that Envoy's own stat names cause (Envoy exports the same):
# no HELP lines, counters without "_total", gauges such as membership_total, "_ms",
# and server.days_until_first_cert_expiring.
ENVOY_NAMING_COMPLAINTS = {
    "no help text",
    'counter metrics should have "_total" suffix',
    'non-counter metrics should not have "_total" suffix',
    "metric names should not contain abbreviated units",
    "use base unit",
}


def many_scopes_config(backend_port: int, echo_port: int) -> str:
    """Every scope kind, two of most, so families hold several series."""
    return bootstrap(
        [http_listener([virtual_host([route_to("web", prefix="/web"),
                                      route_to("dead", prefix="/dead")])], name="ingress"),
         http_listener([virtual_host([route_to("web")])], name="egress"),
         tcp_listener("echo", name="raw")],
        [static_cluster("web", backend_port), static_cluster("dead", free_port()),
         static_cluster("echo", echo_port)])


@pytest.fixture
def busy_proxy(remora, upstream, echo_server):
    backend = upstream(respond(200, b"ok"))
    echo = echo_server()
    proxy = remora(many_scopes_config(backend.port, echo.port), concurrency=2)
    assert http_request(proxy.ports["ingress"], path="/web").status == 200
    assert http_request(proxy.ports["ingress"], path="/dead").status == 503
    assert http_request(proxy.ports["ingress"], path="/none").status == 404
    assert http_request(proxy.ports["egress"], path="/").status == 200
    exchange(proxy.ports["ingress"], MALFORMED_REQUEST)
    exchange(proxy.ports["raw"], b"ping", timeout=0.5)
    expected = {"http.ingress.downstream_rq_completed": 4, "http.egress.downstream_rq_completed": 1}
    assert wait_for_stats(proxy, expected) == expected
    return proxy


def complaint_kind(line: str) -> str:
    """'<metric> <complaint>' -> the complaint; 'use base unit "x" instead of "y"' is
    reported as 'use base unit'."""
    complaint = line.split(" ", 1)[1]
    return "use base unit" if complaint.startswith("use base unit") else complaint


def test_promtool_finds_no_error_and_only_envoy_naming_complaints(busy_proxy):
    text = busy_proxy.admin("GET", "/stats/prometheus").text
    code, lines = promtool_check_metrics(text)
    assert code != 1, "promtool could not parse the exposition:\n" + "\n".join(lines[:20])
    kinds = {complaint_kind(line) for line in lines}
    assert kinds == ENVOY_NAMING_COMPLAINTS
    assert code == 3  # lint problems only


def test_content_type_is_text_format_0_0_4(busy_proxy):
    response = busy_proxy.admin("GET", "/stats/prometheus")
    assert response.header("content-type") == "text/plain; version=0.0.4; charset=UTF-8"


def test_no_duplicate_series_and_each_family_is_one_contiguous_block(busy_proxy):
    exposition = scrape(busy_proxy)
    series = Counter((s.name, s.labels) for s in exposition.samples)
    assert [key for key, count in series.items() if count > 1] == []
    assert [f for f, count in Counter(exposition.type_lines).items() if count > 1] == []
    # Each family's samples follow its own TYPE line, all together.
    assert exposition.sample_families == exposition.under_type
    blocks = [f for i, f in enumerate(exposition.sample_families)
              if i == 0 or exposition.sample_families[i - 1] != f]
    assert [f for f, count in Counter(blocks).items() if count > 1] == []
    # Several scopes share a family: one TYPE line, one label value per scope.
    prefixes = [s.label("envoy_http_conn_manager_prefix") for s in exposition.samples
                if s.name == "envoy_http_downstream_rq_total"]
    assert prefixes == ["egress", "ingress"]


def test_histogram_series_are_cumulative_and_end_with_inf(busy_proxy):
    exposition = scrape(busy_proxy)
    histograms = [f for f, kind in exposition.types.items() if kind == "histogram"]
    assert "envoy_cluster_upstream_rq_time" in histograms
    for family in histograms:
        by_series: dict = {}
        for s in exposition.samples:
            if s.name == family + "_bucket":
                key = tuple(kv for kv in s.labels if kv[0] != "le")
                by_series.setdefault(key, []).append((s.label("le"), s.value))
        counts = {tuple(s.labels): s.value for s in exposition.samples
                  if s.name == family + "_count"}
        assert set(by_series) == set(counts), family
        for key, buckets in by_series.items():
            values = [v for _, v in buckets]
            assert values == sorted(values), (family, key)
            assert buckets[-1] == ("+Inf", counts[key]), (family, key)
            bounds = [float(le) for le, _ in buckets[:-1]]
            assert bounds == sorted(set(bounds)), (family, key)


def test_response_codes_and_classes_are_tags(busy_proxy):
    exposition = scrape(busy_proxy)
    upstream_rq = {(s.label("envoy_cluster_name"), s.label("envoy_response_code")): s.value
                   for s in exposition.samples if s.name == "envoy_cluster_upstream_rq"}
    assert upstream_rq == {("dead", "503"): 1, ("web", "200"): 2}
    classes = {(s.label("envoy_http_conn_manager_prefix"), s.label("envoy_response_code_class")):
               s.value for s in exposition.samples if s.name == "envoy_http_downstream_rq_xx"}
    assert classes == {("egress", c): (1 if c == "2" else 0) for c in "12345"} | \
        {("ingress", "1"): 0, ("ingress", "2"): 1, ("ingress", "3"): 0, ("ingress", "4"): 2,
         ("ingress", "5"): 1}
    tcp = [(s.label("envoy_tcp_prefix"), s.value) for s in exposition.samples
           if s.name == "envoy_tcp_downstream_cx_total"]
    assert tcp == [("raw", 1)]


@pytest.fixture
def prometheus(tmp_path):
    servers = []

    def start(admin_port: int) -> PrometheusServer:
        server = PrometheusServer(tmp_path, admin_port).start()
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.stop()


def test_prometheus_server_sees_exactly_the_requests_sent(remora, upstream, prometheus):
    backend = upstream(respond(200, b"ok"))
    proxy = remora(bootstrap([http_listener([virtual_host([route_to("web")])], name="ingress")],
                             [static_cluster("web", backend.port)]), concurrency=2)
    server = prometheus(proxy.admin_port)
    for i in range(REQUESTS):
        assert http_request(proxy.port, path=f"/{i}").status == 200
    expected = {"cluster.web.upstream_rq_200": REQUESTS,
                "http.ingress.downstream_rq_2xx": REQUESTS,
                "cluster.web.upstream_rq_active": 0}
    assert wait_for_stats(proxy, expected) == expected
    traffic_done = time.time()

    upstream_200 = ('sum(envoy_cluster_upstream_rq{envoy_cluster_name="web",'
                    'envoy_response_code="200"})')
    assert server.wait_for_scrape_after("envoy_cluster_upstream_rq", traffic_done), \
        "no scrape after the traffic in time:\n" + server.log_path.read_text()[-2000:]
    assert scalar_value(server.query(upstream_200)) == REQUESTS
    assert scalar_value(server.query(
        'sum(envoy_http_downstream_rq_xx{envoy_response_code_class="2"})')) == REQUESTS
    p99 = scalar_value(server.query(
        "histogram_quantile(0.99, sum by (le) (envoy_cluster_upstream_rq_time_bucket))"))
    assert is_number(p99) and p99 > 0
    up = server.query('up{job="remora"}')
    assert scalar_value(up) == 1
