"""Routing: virtual hosts, route matching, cluster choice, rewrites and header mutations."""

from __future__ import annotations

import pytest

from harness import (HttpClient, bootstrap, build_response, http_listener, http_request,
                     static_cluster, virtual_host)


def direct(status: int, body: str) -> dict:
    return {"status": status, "body": {"inline_string": body}}


def add(key: str, value: str) -> dict:
    return {"header": {"key": key, "value": value}}


ROUTES = [
    {"match": {"path": "/exact"}, "route": {"cluster": "alpha"}},
    {"match": {"prefix": "/prefix/"}, "route": {"cluster": "alpha"}},
    {"match": {"safe_regex": {"regex": "/regex/[0-9]+"}}, "route": {"cluster": "beta"}},
    {"match": {"prefix": "/hdr", "headers": [{"name": "x-variant",
                                              "string_match": {"exact": "beta"}}]},
     "route": {"cluster": "beta"}},
    {"match": {"prefix": "/hdr"}, "route": {"cluster": "alpha"}},
    {"match": {"prefix": "/query", "query_parameters": [{"name": "v",
                                                         "string_match": {"exact": "2"}}]},
     "route": {"cluster": "beta"}},
    {"match": {"prefix": "/query"}, "route": {"cluster": "alpha"}},
    {"match": {"prefix": "/weighted"},
     "route": {"weighted_clusters": {"clusters": [{"name": "alpha", "weight": 90},
                                                  {"name": "beta", "weight": 10}]}}},
    {"match": {"prefix": "/old/"}, "route": {"cluster": "alpha", "prefix_rewrite": "/new/"}},
    {"match": {"prefix": "/host-rewrite"},
     "route": {"cluster": "alpha", "host_rewrite_literal": "rewritten.example"}},
    {"match": {"prefix": "/direct"}, "direct_response": direct(403, "not for you\n")},
    {"match": {"prefix": "/redirect"},
     "redirect": {"host_redirect": "other.example", "path_redirect": "/landing",
                  "response_code": "FOUND"}},
    {"match": {"prefix": "/mutate"}, "route": {"cluster": "alpha"},
     "request_headers_to_add": [add("x-route-req", "route")],
     "request_headers_to_remove": ["x-client-secret"],
     "response_headers_to_add": [add("x-route-resp", "route")],
     "response_headers_to_remove": ["x-upstream-internal"]},
    {"match": {"prefix": "/no-endpoints"}, "route": {"cluster": "empty"}},
]

VIRTUAL_HOSTS = [
    virtual_host([{"match": {"prefix": "/"}, "direct_response": direct(200, "exact-host")}],
                 domains=["exact.test"], name="exact"),
    virtual_host([{"match": {"prefix": "/"}, "direct_response": direct(200, "suffix-host")}],
                 domains=["*.suffix.test"], name="suffix"),
    virtual_host([{"match": {"prefix": "/"}, "direct_response": direct(200, "prefix-host")}],
                 domains=["prefix.*"], name="prefix"),
    virtual_host(ROUTES, domains=["*"], name="default",
                 request_headers_to_add=[add("x-vhost-req", "vhost")],
                 response_headers_to_add=[add("x-vhost-resp", "vhost")]),
]

ROUTE_CONFIG_HEADERS = {
    "request_headers_to_add": [add("x-rc-req", "route-config")],
    "response_headers_to_add": [add("x-rc-resp", "route-config")],
}


def upstream_handler(conn, request):
    conn.send(build_response(200, b"upstream", [("X-Upstream-Internal", "secret"),
                                                ("X-Upstream-Public", "visible")]))


@pytest.fixture(scope="module")
def servers(module_remora, module_upstream):
    alpha = module_upstream(upstream_handler)
    beta = module_upstream(upstream_handler)
    config = bootstrap(
        [http_listener(VIRTUAL_HOSTS, route_config_extra=ROUTE_CONFIG_HEADERS)],
        [static_cluster("alpha", alpha.port), static_cluster("beta", beta.port),
         static_cluster("empty")])
    return module_remora(config), alpha, beta


@pytest.fixture
def proxy(servers):
    instance, alpha, beta = servers
    alpha.reset()
    beta.reset()
    return instance


@pytest.fixture
def alpha(servers):
    return servers[1]


@pytest.fixture
def beta(servers):
    return servers[2]


def targets(server) -> list[str]:
    return [r.target for r in server.requests]


@pytest.mark.parametrize("host, body", [("exact.test", b"exact-host"),
                                        ("EXACT.test", b"exact-host"),
                                        ("a.suffix.test", b"suffix-host"),
                                        ("prefix.anything", b"prefix-host")])
def test_virtual_host_domains(proxy, host, body):
    assert http_request(proxy.port, host=host).body == body


def test_unknown_host_falls_back_to_the_wildcard_virtual_host(proxy, alpha):
    response = http_request(proxy.port, path="/exact", host="elsewhere.test")
    assert (response.status, targets(alpha)) == (200, ["/exact"])


def test_exact_path_match_is_exact(proxy, alpha):
    assert http_request(proxy.port, path="/exact").status == 200
    assert http_request(proxy.port, path="/exactly").status == 404
    assert targets(alpha) == ["/exact"]


def test_prefix_match(proxy, alpha):
    assert http_request(proxy.port, path="/prefix/a/b?q=1").status == 200
    assert targets(alpha) == ["/prefix/a/b?q=1"]


def test_safe_regex_matches_the_whole_path(proxy, beta):
    assert http_request(proxy.port, path="/regex/123").status == 200
    assert http_request(proxy.port, path="/regex/12x").status == 404
    assert targets(beta) == ["/regex/123"]


def test_header_matcher_selects_the_route(proxy, alpha, beta):
    http_request(proxy.port, path="/hdr/1", headers=[("X-Variant", "beta")])
    http_request(proxy.port, path="/hdr/2", headers=[("X-Variant", "gamma")])
    http_request(proxy.port, path="/hdr/3")
    assert (targets(alpha), targets(beta)) == (["/hdr/2", "/hdr/3"], ["/hdr/1"])


def test_query_parameter_matcher_selects_the_route(proxy, alpha, beta):
    http_request(proxy.port, path="/query?v=2")
    http_request(proxy.port, path="/query?a=1&v=2")
    http_request(proxy.port, path="/query?v=3")
    http_request(proxy.port, path="/query")
    assert targets(beta) == ["/query?v=2", "/query?a=1&v=2"]
    assert targets(alpha) == ["/query?v=3", "/query"]


def test_weighted_clusters_split_90_10(proxy, alpha, beta):
    total = 200
    with HttpClient(proxy.port) as client:
        for _ in range(total):
            assert client.request("GET", "/weighted").status == 200
    to_alpha, to_beta = len(alpha.requests), len(beta.requests)
    assert to_alpha + to_beta == total
    assert to_beta > 0
    # Expected 180/20; a standard deviation is about 4.
    assert 150 <= to_alpha <= 197, (to_alpha, to_beta)


def test_prefix_rewrite(proxy, alpha):
    http_request(proxy.port, path="/old/page?x=1")
    [request] = alpha.requests
    assert (request.target, request.header("x-envoy-original-path")) == \
        ("/new/page?x=1", "/old/page?x=1")


def test_host_rewrite_literal(proxy, alpha):
    http_request(proxy.port, path="/host-rewrite", host="original.test")
    assert alpha.requests[0].header_values("host") == ["rewritten.example"]


def test_direct_response(proxy, alpha, beta):
    response = http_request(proxy.port, path="/direct")
    assert (response.status, response.body) == (403, b"not for you\n")
    assert alpha.raw_bytes() + beta.raw_bytes() == b""


def test_redirect(proxy, alpha):
    response = http_request(proxy.port, path="/redirect?keep=1", host="start.test")
    assert (response.status, response.header("location")) == \
        (302, "http://other.example/landing?keep=1")
    assert alpha.requests == []


def test_request_headers_are_added_at_every_level(proxy, alpha):
    http_request(proxy.port, path="/mutate")
    [request] = alpha.requests
    assert (request.header("x-route-req"), request.header("x-vhost-req"),
            request.header("x-rc-req")) == ("route", "vhost", "route-config")


def test_request_header_is_removed(proxy, alpha):
    http_request(proxy.port, path="/mutate", headers=[("X-Client-Secret", "s3cr3t"),
                                                      ("X-Client-Other", "kept")])
    [request] = alpha.requests
    assert (request.has("x-client-secret"), request.header("x-client-other")) == (False, "kept")


def test_response_headers_are_added_at_every_level(proxy):
    response = http_request(proxy.port, path="/mutate")
    assert (response.header("x-route-resp"), response.header("x-vhost-resp"),
            response.header("x-rc-resp")) == ("route", "vhost", "route-config")


def test_response_header_is_removed(proxy):
    response = http_request(proxy.port, path="/mutate")
    assert (response.has("x-upstream-internal"), response.header("x-upstream-public")) == \
        (False, "visible")


def test_route_level_headers_apply_only_to_their_route(proxy, alpha):
    response = http_request(proxy.port, path="/prefix/x")
    assert (alpha.requests[0].has("x-route-req"), response.has("x-route-resp")) == (False, False)
    assert (alpha.requests[0].header("x-vhost-req"), response.header("x-vhost-resp")) == \
        ("vhost", "vhost")


def test_no_route_is_404_without_contacting_an_upstream(proxy, alpha, beta):
    response = http_request(proxy.port, path="/nothing-matches-this")
    assert (response.status, response.body) == (404, b"")
    assert alpha.raw_bytes() + beta.raw_bytes() == b""


def test_cluster_without_endpoints_is_503_no_healthy_upstream(proxy):
    response = http_request(proxy.port, path="/no-endpoints")
    assert (response.status, response.body) == (503, b"no healthy upstream")
