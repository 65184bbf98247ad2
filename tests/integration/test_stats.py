"""Stats are exact: one remora (two workers) gets a known mix of requests, then every
counter, gauge and histogram count that the mix touches is checked against /stats and
/stats/prometheus. Also ?usedonly, ?filter, POST /reset_counters and
stats_config.histogram_bucket_settings."""

from __future__ import annotations

import re

import pytest

from harness import (ROUTER_FILTER, bootstrap, exchange, free_port, http_listener, http_request,
                     never_answer, respond, route_to, static_cluster, virtual_host)
from telemetry_support import (HEALTH_CHECK_FILTER, MALFORMED_REQUEST, bucket_bounds,
                               prometheus_value, scrape, stats, text_stats, wait_for_stats,
                               with_top_level)

SUCCESSES = 50  # /app requests, each on its own connection so both workers get some
ROUTE_TIMEOUT = "0.3s"
DEFAULT_BUCKETS = ["0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500",
                   "5000", "10000", "30000", "60000", "300000", "600000", "1800000",
                   "3600000", "+Inf"]


def backend_handler(conn, request):
    if request.target.startswith("/slow"):
        never_answer()(conn, request)
    elif request.target.startswith("/fail"):
        respond(503, b"unavailable", reason="Service Unavailable")(conn, request)
    else:
        respond(200, b"ok")(conn, request)


def mixed_config(backend_port: int, dead_port: int) -> str:
    routes = [route_to("backend", prefix="/app"),
              route_to("backend", prefix="/fail"),
              route_to("backend", prefix="/slow", timeout=ROUTE_TIMEOUT),
              route_to("dead", prefix="/dead"),
              {"match": {"prefix": "/direct"},
               "direct_response": {"status": 200, "body": {"inline_string": "direct"}}}]
    return bootstrap(
        [http_listener([virtual_host(routes)], name="ingress",
                       http_filters=[HEALTH_CHECK_FILTER, ROUTER_FILTER])],
        [static_cluster("backend", backend_port), static_cluster("dead", dead_port)])


class Mix:
    """What was sent, and the listener's stat scope."""

    def __init__(self, proxy, backend):
        self.proxy = proxy
        self.backend = backend
        self.listener = f"listener.127.0.0.1_{proxy.port}"
        self.statuses: list[int] = []

    @property
    def sent(self) -> int:
        return len(self.statuses)


@pytest.fixture(scope="module")
def mix(module_remora, module_upstream):
    backend = module_upstream(backend_handler)
    proxy = module_remora(mixed_config(backend.port, free_port()), concurrency=2)
    sent = Mix(proxy, backend)
    for i in range(SUCCESSES):
        sent.statuses.append(http_request(proxy.port, path=f"/app/{i}").status)
    for path in ("/nowhere", "/direct", "/healthz", "/fail", "/dead", "/slow"):
        sent.statuses.append(http_request(proxy.port, path=path, timeout=10).status)
    raw, closed = exchange(proxy.port, MALFORMED_REQUEST)
    assert closed
    sent.statuses.append(int(raw.split(b" ", 2)[1]))
    assert sent.statuses == [200] * SUCCESSES + [404, 200, 200, 503, 503, 504, 400]
    return sent


def test_downstream_request_counters_are_exact(mix):
    expected = {
        "http.ingress.downstream_rq_total": mix.sent,
        "http.ingress.downstream_rq_http1_total": mix.sent,
        "http.ingress.downstream_rq_completed": mix.sent,
        "http.ingress.downstream_rq_1xx": 0,
        "http.ingress.downstream_rq_2xx": SUCCESSES + 2,  # + direct_response, health check
        "http.ingress.downstream_rq_3xx": 0,
        "http.ingress.downstream_rq_4xx": 2,  # route miss, malformed request
        "http.ingress.downstream_rq_5xx": 3,  # upstream 503, connect failure, timeout
        "http.ingress.downstream_rq_active": 0,
        "http.ingress.no_route": 1,
        "http.ingress.no_cluster": 0,
        "http.ingress.downstream_cx_total": mix.sent,
        "http.ingress.downstream_cx_protocol_error": 1,
    }
    assert wait_for_stats(mix.proxy, expected) == expected


def test_every_request_lands_once_in_downstream_rq_time(mix):
    wait_for_stats(mix.proxy, {"http.ingress.downstream_rq_completed": mix.sent})
    exposition = scrape(mix.proxy)
    labels = {"envoy_http_conn_manager_prefix": "ingress"}
    assert prometheus_value(exposition, "envoy_http_downstream_rq_time_count", **labels) == mix.sent
    assert prometheus_value(exposition, "envoy_http_downstream_rq_time_bucket", le="+Inf",
                            **labels) == mix.sent


def test_cluster_counters_are_exact(mix):
    # The timed-out request reached the upstream, so it counts; it never completed.
    handed_upstream = SUCCESSES + 2
    expected = {
        "cluster.backend.upstream_rq_total": handed_upstream,
        "cluster.backend.upstream_rq_200": SUCCESSES,
        "cluster.backend.upstream_rq_503": 1,
        "cluster.backend.upstream_rq_504": 1,
        "cluster.backend.upstream_rq_2xx": SUCCESSES,
        "cluster.backend.upstream_rq_5xx": 2,
        "cluster.backend.upstream_rq_completed": handed_upstream - 1,
        "cluster.backend.upstream_rq_timeout": 1,
        "cluster.backend.upstream_rq_active": 0,
        "cluster.backend.upstream_rq_pending_active": 0,
        "cluster.backend.upstream_cx_connect_fail": 0,
        "cluster.backend.membership_total": 1,
        "cluster.backend.membership_healthy": 1,
        # Connect failure: charged 503 as Envoy does, never handed to a connection.
        "cluster.dead.upstream_rq_total": 0,
        "cluster.dead.upstream_rq_503": 1,
        "cluster.dead.upstream_rq_5xx": 1,
        "cluster.dead.upstream_rq_timeout": 0,
        "cluster.dead.upstream_cx_connect_fail": 1,
        "cluster.dead.upstream_rq_pending_failure_eject": 1,
        "cluster.dead.membership_total": 1,
    }
    assert wait_for_stats(mix.proxy, expected) == expected


def test_upstream_rq_time_counts_requests_handed_upstream(mix):
    wait_for_stats(mix.proxy, {"cluster.backend.upstream_rq_active": 0})
    exposition = scrape(mix.proxy)
    assert prometheus_value(exposition, "envoy_cluster_upstream_rq_time_count",
                            envoy_cluster_name="backend") == SUCCESSES + 2
    assert prometheus_value(exposition, "envoy_cluster_upstream_rq_time_count",
                            envoy_cluster_name="dead") == 0


def test_listener_counts_every_connection(mix):
    expected = {f"{mix.listener}.downstream_cx_total": mix.sent,
                f"{mix.listener}.downstream_cx_destroy": mix.sent,
                f"{mix.listener}.downstream_cx_active": 0,
                f"{mix.listener}.no_filter_chain_match": 0}
    assert wait_for_stats(mix.proxy, expected) == expected


def test_server_gauges(mix):
    values = stats(mix.proxy)
    assert (values["server.concurrency"], values["server.live"], values["server.state"]) == \
        (2, 1, 0)
    assert values["server.version"] > 0


def test_text_format_has_the_same_values_as_json(mix):
    wait_for_stats(mix.proxy, {"http.ingress.downstream_rq_completed": mix.sent})
    json_values = stats(mix.proxy)
    text_values = text_stats(mix.proxy)
    volatile = re.compile(r"^server\.(uptime|memory_.*)$")  # may change between the reads
    assert {k: v for k, v in text_values.items() if not volatile.match(k)} == \
        {k: v for k, v in json_values.items() if not volatile.match(k)}


def test_text_format_prints_histogram_quantiles(mix):
    wait_for_stats(mix.proxy, {"http.ingress.downstream_rq_completed": mix.sent})
    lines = mix.proxy.admin("GET", "/stats?filter=downstream_rq_time$").text.splitlines()
    assert len(lines) == 1 and lines[0].startswith("http.ingress.downstream_rq_time: P0(nan,")
    assert [q.split("(")[0] for q in lines[0].split(": ", 1)[1].split(" ")] == \
        ["P0", "P25", "P50", "P75", "P90", "P95", "P99", "P99.5", "P99.9", "P100"]


def test_usedonly_hides_stats_that_were_never_touched(mix):
    everything = stats(mix.proxy)
    used = stats(mix.proxy, "usedonly")
    assert "cluster.backend.upstream_rq_3xx" in everything
    assert "cluster.backend.upstream_rq_3xx" not in used
    assert used["cluster.backend.upstream_rq_200"] == SUCCESSES
    assert set(used) - {"server.uptime"} == \
        {name for name, value in everything.items() if value != 0} - {"server.uptime"}
    text = mix.proxy.admin("GET", "/stats/prometheus?usedonly").text
    assert 'envoy_cluster_upstream_rq{envoy_response_code="200",envoy_cluster_name="backend"}' \
        in text
    assert "envoy_cluster_upstream_rq_cancelled" not in text


def test_filter_is_a_partial_re2_match_on_the_name(mix):
    assert set(stats(mix.proxy, "filter=upstream_rq_50[34]$")) == {
        "cluster.backend.upstream_rq_503", "cluster.backend.upstream_rq_504",
        "cluster.dead.upstream_rq_503"}
    assert set(text_stats(mix.proxy, "filter=%5Eserver%5C.(live%7Cconcurrency)$")) == \
        {"server.live", "server.concurrency"}
    exposition = scrape(mix.proxy, "filter=cluster%5C.dead%5C.upstream_cx_connect_fail")
    assert [(s.name, s.value) for s in exposition.samples] == \
        [("envoy_cluster_upstream_cx_connect_fail", 1)]


def test_invalid_filter_is_400(mix):
    response = mix.proxy.admin("GET", "/stats?filter=(unclosed")
    assert response.status == 400
    assert response.text.startswith("Invalid re2 regex")


def test_reset_counters_zeroes_counters_and_histograms_not_gauges(remora, upstream):
    backend = upstream(respond(200, b"ok"))
    proxy = remora(mixed_config(backend.port, free_port()))
    for _ in range(3):
        assert http_request(proxy.port, path="/app").status == 200
    before = {"http.ingress.downstream_rq_total": 3, "cluster.backend.upstream_rq_200": 3,
              "cluster.backend.membership_total": 1}
    assert wait_for_stats(proxy, before) == before

    refused = proxy.admin("GET", "/reset_counters")
    assert (refused.status, refused.body) == (405, b"This endpoint requires POST.\n")
    assert wait_for_stats(proxy, before) == before  # a GET changes nothing

    response = proxy.admin("POST", "/reset_counters")
    assert (response.status, response.body) == (200, b"OK\n")
    values = stats(proxy)
    assert (values["http.ingress.downstream_rq_total"], values["cluster.backend.upstream_rq_200"],
            values["cluster.backend.membership_total"], values["server.live"]) == (0, 0, 1, 1)
    exposition = scrape(proxy)
    assert prometheus_value(exposition, "envoy_cluster_upstream_rq_time_count",
                            envoy_cluster_name="backend") == 0

    assert http_request(proxy.port, path="/app").status == 200
    after = {"http.ingress.downstream_rq_total": 1, "cluster.backend.upstream_rq_200": 1}
    assert wait_for_stats(proxy, after) == after
    assert prometheus_value(scrape(proxy), "envoy_cluster_upstream_rq_time_count",
                            envoy_cluster_name="backend") == 1


def test_histogram_bucket_settings_change_the_buckets_of_matching_histograms(remora, upstream):
    backend = upstream(respond(200, b"ok"))
    config = with_top_level(mixed_config(backend.port, free_port()), {"stats_config": {
        "histogram_bucket_settings": [
            {"match": {"safe_regex": {"regex": r"^cluster\.backend\.upstream_rq_time$"}},
             "buckets": [1, 2.5, 1000]},
            {"match": {"prefix": "cluster.backend."}, "buckets": [7, 70]}]}})
    proxy = remora(config)
    assert http_request(proxy.port, path="/app").status == 200
    wait_for_stats(proxy, {"cluster.backend.upstream_rq_active": 0})
    exposition = scrape(proxy)
    backend_labels = {"envoy_cluster_name": "backend"}
    # The first matching entry wins.
    assert bucket_bounds(exposition, "envoy_cluster_upstream_rq_time", **backend_labels) == \
        ["1", "2.5", "1000", "+Inf"]
    assert bucket_bounds(exposition, "envoy_cluster_upstream_cx_connect_ms", **backend_labels) == \
        ["7", "70", "+Inf"]
    assert prometheus_value(exposition, "envoy_cluster_upstream_rq_time_bucket", le="1000",
                            **backend_labels) == 1
    # Histograms that match nothing keep Envoy's defaults.
    assert bucket_bounds(exposition, "envoy_cluster_upstream_rq_time",
                         envoy_cluster_name="dead") == DEFAULT_BUCKETS
    assert bucket_bounds(exposition, "envoy_http_downstream_rq_time",
                         envoy_http_conn_manager_prefix="ingress") == DEFAULT_BUCKETS
