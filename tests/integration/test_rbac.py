"""envoy.filters.http.rbac in front of the router: requests allowed and denied by path,
method, header and client address under DENY and ALLOW rules; remote_ip against the
x-forwarded-for client, direct_remote_ip against the peer; the 403 Envoy sends; the
access log (Remora's RBAC response flag, the matched policy in %RESPONSE_CODE_DETAILS%,
the verdicts in %DYNAMIC_METADATA(envoy.filters.http.rbac:...)%); exact
http.<stat_prefix>.rbac.[<rules_stat_prefix>.]* counters (shadow rules included) in
/stats and Prometheus; config errors with their location."""

from __future__ import annotations

import re

from harness import (ROUTER_FILTER, bootstrap, http_listener, http_request, respond, route_to,
                     run_remora, static_cluster, virtual_host)
from telemetry_support import (file_access_log, lines_after_quiet, prometheus_value, scrape,
                               wait_for_stats)

RBAC_TYPE = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC"
LOG_FORMAT = {"text_format_source": {"inline_string":
                                     "%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% "
                                     "%RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%\n"}}
ANY = [{"any": True}]


def method_is(method: str) -> dict:
    return {"header": {"name": ":method", "string_match": {"exact": method}}}


def path_prefix(prefix: str) -> dict:
    return {"url_path": {"path": {"prefix": prefix}}}


def rbac_filter(typed_config: dict) -> dict:
    return {"name": "envoy.filters.http.rbac", "typed_config": {"@type": RBAC_TYPE, **typed_config}}


# Enforced: DENY admin paths, DELETE and anything carrying x-blocked. Shadow: ALLOW only
# GET from loopback, so POST and DELETE count as shadow denials.
DENY_RULES = {
    "rules": {"action": "DENY", "policies": {
        "block-admin": {"permissions": [path_prefix("/admin")], "principals": ANY},
        "block-delete": {"permissions": [method_is("DELETE")], "principals": ANY},
        "block-header": {"permissions": [{"header": {"name": "x-blocked",
                                                     "present_match": True}}],
                         "principals": ANY},
    }},
    "shadow_rules": {"action": "ALLOW", "policies": {
        "loopback-get": {"permissions": [method_is("GET")],
                         "principals": [{"remote_ip": {"address_prefix": "127.0.0.0",
                                                       "prefix_len": 8}}]},
    }},
}

# Enforced: ALLOW GET under /api/ from 127.0.0.1, and anything from 2001:db8::/32 (which
# the loopback client is not in); everything else is denied with no matched policy.
ALLOW_RULES = {
    "rules": {"action": "ALLOW", "policies": {
        "api-readers": {
            "permissions": [{"and_rules": {"rules": [method_is("GET"), path_prefix("/api/")]}}],
            "principals": [{"direct_remote_ip": {"address_prefix": "127.0.0.1",
                                                 "prefix_len": 32}}]},
        "v6-clients": {
            "permissions": ANY,
            "principals": [{"remote_ip": {"address_prefix": "2001:db8::", "prefix_len": 32}}]},
    }},
}


def rbac_config(backend_port: int, rules: dict, log_path) -> str:
    return bootstrap(
        [http_listener([virtual_host([route_to("backend")])], name="ingress",
                       http_filters=[rbac_filter(rules), ROUTER_FILTER],
                       access_log=[file_access_log(log_path, LOG_FORMAT)])],
        [static_cluster("backend", backend_port)])


def test_deny_rules_by_path_method_and_header(remora, upstream, tmp_path):
    backend = upstream(respond(200, b"ok"))
    log = tmp_path / "access.log"
    proxy = remora(rbac_config(backend.port, DENY_RULES, log), concurrency=2)

    sent = [("GET", "/public", []), ("GET", "/public/a?admin=1", []), ("POST", "/public", []),
            ("GET", "/admin/users", []), ("DELETE", "/item", []),
            ("GET", "/public", [("X-Blocked", "1")]), ("GET", "/Admin", [])]
    statuses = []
    for method, path, headers in sent:
        response = http_request(proxy.port, method, path, headers=headers,
                                body=b"" if method == "POST" else None)
        statuses.append(response.status)
        if response.status == 403:
            assert response.body == b"RBAC: access denied"
            assert response.header("content-length") == "19"
    assert statuses == [200, 200, 200, 403, 403, 403, 200]
    assert [r.target for r in backend.requests] == ["/public", "/public/a?admin=1", "/public",
                                                   "/Admin"]

    # Two workers buffer their lines separately, so the file's order may differ.
    assert sorted(lines_after_quiet(log, len(sent))) == sorted([
        "GET /public 200 - via_upstream",
        "GET /public/a?admin=1 200 - via_upstream",
        "POST /public 200 - via_upstream",
        "GET /admin/users 403 RBAC rbac_access_denied_matched_policy[block-admin]",
        "DELETE /item 403 RBAC rbac_access_denied_matched_policy[block-delete]",
        "GET /public 403 RBAC rbac_access_denied_matched_policy[block-header]",
        "GET /Admin 200 - via_upstream",
    ])

    expected = {"http.ingress.rbac.allowed": 4, "http.ingress.rbac.denied": 3,
                "http.ingress.rbac.shadow_allowed": 5, "http.ingress.rbac.shadow_denied": 2,
                "http.ingress.downstream_rq_2xx": 4, "http.ingress.downstream_rq_4xx": 3}
    assert wait_for_stats(proxy, expected) == expected
    exposition = scrape(proxy, "filter=rbac")
    assert {name: prometheus_value(exposition, f"envoy_http_rbac_{name}",
                                   envoy_http_conn_manager_prefix="ingress")
            for name in ("allowed", "denied", "shadow_allowed", "shadow_denied")} == \
        {"allowed": 4, "denied": 3, "shadow_allowed": 5, "shadow_denied": 2}


def test_allow_rules_deny_everything_unmatched(remora, upstream, tmp_path):
    backend = upstream(respond(200, b"ok"))
    log = tmp_path / "access.log"
    rules = {**ALLOW_RULES, "rules_stat_prefix": "api_"}
    proxy = remora(rbac_config(backend.port, rules, log))

    assert http_request(proxy.port, "GET", "/api/items").status == 200
    assert http_request(proxy.port, "GET", "/api/items?page=2").status == 200
    denied = [("POST", "/api/items"), ("GET", "/api"), ("GET", "/other")]
    for method, path in denied:
        response = http_request(proxy.port, method, path, body=b"x" if method == "POST" else None)
        assert (response.status, response.body) == (403, b"RBAC: access denied")
    assert [r.target for r in backend.requests] == ["/api/items", "/api/items?page=2"]
    assert lines_after_quiet(log, 5)[2:] == [
        "POST /api/items 403 RBAC rbac_access_denied_matched_policy[none]",
        "GET /api 403 RBAC rbac_access_denied_matched_policy[none]",
        "GET /other 403 RBAC rbac_access_denied_matched_policy[none]",
    ]
    # rules_stat_prefix names the enforced counters (Envoy joins it with a dot); the
    # shadow ones keep their plain names.
    expected = {"http.ingress.rbac.api_.allowed": 2, "http.ingress.rbac.api_.denied": 3,
                "http.ingress.rbac.shadow_allowed": 0, "http.ingress.rbac.shadow_denied": 0}
    assert wait_for_stats(proxy, expected) == expected
    exposition = scrape(proxy, "filter=rbac")
    assert [prometheus_value(exposition, f"envoy_http_rbac_{name}",
                             envoy_http_conn_manager_prefix="ingress",
                             envoy_rbac_http_prefix="api_")
            for name in ("allowed", "denied")] == [2, 3]


# Enforced: ALLOW the client x-forwarded-for names in 203.0.113.0/24 (remote_ip). Shadow:
# DENY a direct peer in that range (never, the peer is loopback) or a loopback client
# (only without x-forwarded-for). Policies are tried by name, so "peer-in-xff-range"
# first.
XFF_RULES = {
    "rules": {"action": "ALLOW", "policies": {
        "forwarded-client": {"permissions": ANY, "principals": [
            {"remote_ip": {"address_prefix": "203.0.113.0", "prefix_len": 24}}]}}},
    "shadow_rules": {"action": "DENY", "policies": {
        "peer-in-xff-range": {"permissions": ANY, "principals": [
            {"direct_remote_ip": {"address_prefix": "203.0.113.0", "prefix_len": 24}}]},
        "z-loopback-client": {"permissions": ANY, "principals": [
            {"remote_ip": {"address_prefix": "127.0.0.0", "prefix_len": 8}}]}}},
}
RBAC_METADATA_FORMAT = {"text_format_source": {"inline_string": (
    "%RESPONSE_CODE% %RESPONSE_FLAGS% "
    "%DYNAMIC_METADATA(envoy.filters.http.rbac:enforced_effective_policy_id)% "
    "%DYNAMIC_METADATA(envoy.filters.http.rbac:enforced_engine_result)% "
    "%DYNAMIC_METADATA(envoy.filters.http.rbac:shadow_effective_policy_id)% "
    "%DYNAMIC_METADATA(envoy.filters.http.rbac:shadow_engine_result)% "
    "%DYNAMIC_METADATA(envoy.filters.network.rbac:shadow_engine_result)%\n")}}


def test_remote_ip_is_the_forwarded_client_and_verdicts_reach_the_access_log(remora, upstream,
                                                                              tmp_path):
    backend = upstream(respond(200, b"ok"))
    log = tmp_path / "access.log"
    listener = http_listener([virtual_host([route_to("backend")])], name="ingress",
                             http_filters=[rbac_filter(XFF_RULES), ROUTER_FILTER],
                             access_log=[file_access_log(log, RBAC_METADATA_FORMAT)],
                             use_remote_address=True, xff_num_trusted_hops=1)
    proxy = remora(bootstrap([listener], [static_cluster("backend", backend.port)]))

    forwarded = [("X-Forwarded-For", "203.0.113.7")]
    assert http_request(proxy.port, "GET", "/", headers=forwarded).status == 200
    assert http_request(proxy.port, "GET", "/").status == 403
    outside = [("X-Forwarded-For", "198.51.100.1")]
    assert http_request(proxy.port, "GET", "/", headers=outside).status == 403

    assert lines_after_quiet(log, 3) == [
        "200 - forwarded-client allowed - allowed -",
        "403 RBAC - denied z-loopback-client denied -",
        "403 RBAC - denied - allowed -",
    ]
    expected = {"http.ingress.rbac.allowed": 1, "http.ingress.rbac.denied": 2,
                "http.ingress.rbac.shadow_allowed": 2, "http.ingress.rbac.shadow_denied": 1}
    assert wait_for_stats(proxy, expected) == expected


def test_a_config_error_names_its_location(tmp_path):
    rules = {"rules": {"action": "LOG"}}
    config = tmp_path / "bad-rbac.yaml"
    config.write_text(rbac_config(1, rules, tmp_path / "unused.log").replace("$admin_port", "0"))
    result = run_remora("--mode", "validate", "-c", str(config))
    assert result.returncode == 1
    assert re.fullmatch(
        re.escape(str(config)) + r":\d+:\d+: static_resources\.listeners\[0\]\.filter_chains\[0\]"
        r"\.filters\[0\]\.typed_config\.http_filters\[0\]\.typed_config\.rules\.action: "
        r"action LOG is not supported\n", result.stderr), result.stderr
