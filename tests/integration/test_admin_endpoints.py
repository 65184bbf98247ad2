"""Every admin endpoint of docs/admin.md on a running remora, with Envoy's formats; the
mutating ones refuse GET (405) and change nothing then."""

from __future__ import annotations

import json
import re
import signal
import socket
import time

import pytest

from harness import (LOOPBACK, ROUTER_FILTER, HttpClient, bootstrap, build_request, delayed,
                     http_listener, http_request, respond, route_to, run_remora, static_cluster,
                     virtual_host, wait_until)
from telemetry_support import HEALTH_CHECK_FILTER, stats, wait_for_stats, with_top_level

DOCUMENTED_PATHS = ["/", "/help", "/ready", "/server_info", "/stats", "/stats/prometheus",
                    "/clusters", "/listeners", "/certs", "/config_dump", "/runtime",
                    "/runtime_modify", "/memory", "/logging", "/healthcheck/fail",
                    "/healthcheck/ok", "/drain_listeners", "/reset_counters", "/quitquitquit"]
REFUSAL = (405, b"This endpoint requires POST.\n")
NODE = {"id": "sidecar-7", "cluster": "checkout"}
RUNTIME = {"layers": [
    {"name": "static", "static_layer": {"feature": {"ratio": 25}, "db": {"password": "hunter2"}}},
    {"name": "admin", "admin_layer": {}}]}
WEB_REQUESTS = 4
POOL_REQUESTS = 6


def admin_config(web_port: int, pool_ports: list[int], flaky_port: int) -> str:
    routes = [route_to("pool", prefix="/pool"), route_to("flaky", prefix="/flaky"),
              route_to("web", prefix="/")]
    config = bootstrap(
        [http_listener([virtual_host(routes)], name="front",
                       http_filters=[HEALTH_CHECK_FILTER, ROUTER_FILTER])],
        [static_cluster("web", web_port), static_cluster("pool", *pool_ports),
         static_cluster("flaky", flaky_port)])
    return with_top_level(config, {"node": NODE, "layered_runtime": RUNTIME})


class Servers:
    def __init__(self, proxy, web, pool, flaky):
        self.proxy, self.web, self.pool, self.flaky = proxy, web, pool, flaky


@pytest.fixture(scope="module")
def servers(module_remora, module_upstream):
    """A remora (two workers) that has served a known set of requests."""
    web = module_upstream(respond(200, b"web"))
    pool = [module_upstream(respond(200, b"pool")) for _ in range(2)]
    flaky = module_upstream(respond(503, b"down", reason="Service Unavailable"))
    proxy = module_remora(admin_config(web.port, [s.port for s in pool], flaky.port),
                          concurrency=2)
    for i in range(WEB_REQUESTS):
        assert http_request(proxy.port, path=f"/w{i}").status == 200
    for i in range(POOL_REQUESTS):
        assert http_request(proxy.port, path=f"/pool/{i}").status == 200
    assert http_request(proxy.port, path="/flaky").status == 503
    expected = {"cluster.web.upstream_rq_completed": WEB_REQUESTS,
                "cluster.pool.upstream_rq_completed": POOL_REQUESTS,
                "cluster.flaky.upstream_rq_completed": 1}
    assert wait_for_stats(proxy, expected) == expected
    return Servers(proxy, web, pool, flaky)


@pytest.fixture
def proxy(servers):
    return servers.proxy


# ---------------------------------------------------------------- read-only endpoints


def test_help_and_root_list_every_command(proxy):
    root, help_page = proxy.admin("GET", "/"), proxy.admin("GET", "/help")
    assert (root.status, help_page.status) == (200, 200)
    assert root.body == help_page.body
    assert root.text.startswith("admin commands are:\n")
    listed = re.findall(r"^  (/\S*?)(?: \(POST\))?:", root.text, re.MULTILINE)
    assert set(DOCUMENTED_PATHS) | {"/reopen_logs"} == set(listed)


def test_unknown_path_is_404_with_the_help(proxy):
    response = proxy.admin("GET", "/no/such/page")
    assert response.status == 404
    assert "/server_info" in response.text


def test_ready_is_200_live(proxy):
    response = proxy.admin("GET", "/ready")
    assert (response.status, response.body) == (200, b"LIVE\n")


def test_server_info(proxy):
    response = proxy.admin("GET", "/server_info")
    assert (response.status, response.header("content-type")) == (200, "application/json")
    info = json.loads(response.body)
    version = run_remora("--version").stdout.strip().removeprefix("remora version: ")
    assert (info["version"], info["state"]) == (version, "LIVE")
    assert re.fullmatch(r"\d+\.\d+\.\d+/RELEASE", info["version"])
    options = info["command_line_options"]
    assert (options["concurrency"], options["config_path"], options["drain_time"]) == \
        (2, str(proxy.config_path), "1s")
    assert info["node"] == NODE
    assert re.fullmatch(r"\d+s", info["uptime_current_epoch"])


def test_stats_in_each_format(proxy):
    text = proxy.admin("GET", "/stats")
    assert (text.status, text.header("content-type")) == (200, "text/plain; charset=UTF-8")
    assert f"cluster.web.upstream_rq_200: {WEB_REQUESTS}" in text.text.splitlines()
    as_json = proxy.admin("GET", "/stats?format=json")
    assert (as_json.status, as_json.header("content-type")) == (200, "application/json")
    assert {"name": "cluster.pool.upstream_rq_200", "value": POOL_REQUESTS} in \
        json.loads(as_json.body)["stats"]
    prometheus = proxy.admin("GET", "/stats/prometheus")
    assert prometheus.header("content-type") == "text/plain; version=0.0.4; charset=UTF-8"
    assert 'envoy_cluster_upstream_rq{envoy_response_code="503",envoy_cluster_name="flaky"} 1' \
        in prometheus.text.splitlines()


def host_lines(text: str, cluster: str, port: int) -> dict[str, str]:
    prefix = f"{cluster}::127.0.0.1:{port}::"
    return dict(line[len(prefix):].split("::", 1) for line in text.splitlines()
                if line.startswith(prefix))


def test_clusters_text_counts_requests_per_host(servers):
    text = servers.proxy.admin("GET", "/clusters").text
    web = host_lines(text, "web", servers.web.port)
    assert web == {"cx_active": web["cx_active"], "rq_active": "0",
                   "cx_connect_fail": "0", "cx_total": web["cx_total"], "rq_error": "0",
                   "rq_success": str(WEB_REQUESTS), "rq_timeout": "0",
                   "rq_total": str(WEB_REQUESTS), "hostname": LOOPBACK,
                   "health_flags": "healthy", "weight": "1"}
    assert 1 <= int(web["cx_total"]) <= 2  # one pooled connection per worker at most
    for server in servers.pool:
        host = host_lines(text, "pool", server.port)
        assert (host["rq_total"], host["rq_success"]) == (str(len(server.requests)),) * 2
    assert sum(len(s.requests) for s in servers.pool) == POOL_REQUESTS
    flaky = host_lines(text, "flaky", servers.flaky.port)
    assert (flaky["rq_total"], flaky["rq_success"], flaky["rq_error"]) == ("1", "0", "1")


def test_clusters_json_counts_requests_per_host(servers):
    response = servers.proxy.admin("GET", "/clusters?format=json")
    assert response.header("content-type") == "application/json"
    clusters = {c["name"]: c for c in json.loads(response.body)["cluster_statuses"]}
    assert set(clusters) == {"web", "pool", "flaky"}

    def host_stats(cluster: str) -> dict[int, dict[str, int]]:
        out = {}
        for host in clusters[cluster]["host_statuses"]:
            address = host["address"]["socket_address"]
            assert address["address"] == LOOPBACK
            out[address["port_value"]] = {s["name"]: int(s["value"]) for s in host["stats"]}
        return out
    web = host_stats("web")[servers.web.port]
    assert (web["rq_total"], web["rq_success"], web["rq_error"], web["rq_active"]) == \
        (WEB_REQUESTS, WEB_REQUESTS, 0, 0)
    pool = host_stats("pool")
    assert {port: s["rq_total"] for port, s in pool.items()} == \
        {s.port: len(s.requests) for s in servers.pool}
    assert host_stats("flaky")[servers.flaky.port]["rq_error"] == 1


def test_listeners_show_the_bound_port_of_a_port_0_listener(proxy):
    text = proxy.admin("GET", "/listeners")
    (line,) = text.text.splitlines()
    match = re.fullmatch(r"front::127\.0\.0\.1:(\d+)", line)
    assert match and int(match.group(1)) != 0
    port = int(match.group(1))
    assert http_request(port, path="/via-listed-port").status == 200
    listing = json.loads(proxy.admin("GET", "/listeners?format=json").body)
    assert listing == {"listener_statuses": [{"name": "front", "local_address": {
        "socket_address": {"address": LOOPBACK, "port_value": port}}}]}


def test_config_dump_has_the_bootstrap_with_secrets_redacted(proxy):
    response = proxy.admin("GET", "/config_dump")
    assert (response.status, response.header("content-type")) == (200, "application/json")
    assert b"hunter2" not in response.body
    (dump,) = json.loads(response.body)["configs"]
    assert dump["@type"] == "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump"
    bootstrap_dump = dump["bootstrap"]
    assert bootstrap_dump["node"] == NODE
    assert bootstrap_dump["admin"]["address"]["socket_address"] == \
        {"address": LOOPBACK, "port_value": proxy.admin_port}
    resources = bootstrap_dump["static_resources"]
    assert [c["name"] for c in resources["clusters"]] == ["web", "pool", "flaky"]
    assert [listener["name"] for listener in resources["listeners"]] == ["front"]
    static_layer = bootstrap_dump["layered_runtime"]["layers"][0]["static_layer"]
    assert static_layer == {"feature": {"ratio": 25}, "db": {"password": "[redacted]"}}


def test_memory_is_json_with_envoys_fields(proxy):
    response = proxy.admin("GET", "/memory")
    assert (response.status, response.header("content-type")) == (200, "application/json")
    memory = json.loads(response.body)
    assert set(memory) == {"allocated", "heap_size", "pageheap_unmapped", "pageheap_free",
                           "total_thread_cache", "total_physical_bytes"}
    assert all(isinstance(v, str) and v.isdigit() for v in memory.values()), memory
    assert int(memory["total_physical_bytes"]) > 1 << 20  # the process's resident set


# ---------------------------------------------------------------- runtime, logging


def runtime_entries(proxy) -> dict:
    response = proxy.admin("GET", "/runtime")
    assert (response.status, response.header("content-type")) == (200, "application/json")
    body = json.loads(response.body)
    assert body["layers"] == ["static_layer", "admin"]
    return body["entries"]


def test_runtime_modify_sets_and_removes_admin_layer_values(proxy):
    assert runtime_entries(proxy)["feature.ratio"] == \
        {"layer_values": ["25", ""], "final_value": "25"}
    assert proxy.admin("GET", "/runtime_modify?feature.ratio=75").status == 405
    assert "feature.ratio" in runtime_entries(proxy)
    assert runtime_entries(proxy)["feature.ratio"]["final_value"] == "25"

    response = proxy.admin("POST", "/runtime_modify?feature.ratio=75&new.key=on")
    assert (response.status, response.body) == (200, b"OK\n")
    entries = runtime_entries(proxy)
    assert entries["feature.ratio"] == {"layer_values": ["25", "75"], "final_value": "75"}
    assert entries["new.key"] == {"layer_values": ["", "on"], "final_value": "on"}

    assert proxy.admin("POST", "/runtime_modify?feature.ratio=&new.key=").status == 200
    entries = runtime_entries(proxy)
    assert entries["feature.ratio"] == {"layer_values": ["25", ""], "final_value": "25"}
    assert "new.key" not in entries


def test_runtime_modify_is_503_without_an_admin_layer(remora, upstream):
    backend = upstream()
    config = with_top_level(
        bootstrap([http_listener([virtual_host([route_to("web")])])],
                  [static_cluster("web", backend.port)]),
        {"layered_runtime": {"layers": [{"name": "static", "static_layer": {"a": 1}}]}})
    proxy = remora(config)
    response = proxy.admin("POST", "/runtime_modify?a=2")
    assert response.status == 503
    assert runtime_entries(proxy)["a"]["final_value"] == "1"


def test_logging_level_can_be_read_and_set(proxy):
    assert proxy.admin("GET", "/logging").text == "active loggers:\n  remora: info\n"
    assert proxy.admin("GET", "/logging?level=trace").status == 405
    assert proxy.admin("GET", "/logging").text == "active loggers:\n  remora: info\n"
    try:
        response = proxy.admin("POST", "/logging?level=debug")
        assert (response.status, response.text) == (200, "active loggers:\n  remora: debug\n")
        assert proxy.admin("GET", "/logging").text == "active loggers:\n  remora: debug\n"
        assert proxy.admin("POST", "/logging?level=loud").status == 400
    finally:
        assert proxy.admin("POST", "/logging?level=info").status == 200
    assert proxy.admin("GET", "/logging").text == "active loggers:\n  remora: info\n"


# ---------------------------------------------------------------- health checks


def test_healthcheck_fail_and_ok(proxy):
    assert http_request(proxy.port, path="/healthz").status == 200
    try:
        assert proxy.admin("POST", "/healthcheck/fail").status == 200
        failed = http_request(proxy.port, path="/healthz")
        assert (failed.status, failed.header("x-envoy-immediate-health-check-fail")) == \
            (503, "true")
        refused = proxy.admin("GET", "/healthcheck/ok")
        assert (refused.status, refused.body) == REFUSAL
        assert http_request(proxy.port, path="/healthz").status == 503  # still failing
    finally:
        response = proxy.admin("POST", "/healthcheck/ok")
    assert (response.status, response.body) == (200, b"OK\n")
    assert http_request(proxy.port, path="/healthz").status == 200


# ---------------------------------------------------------------- GET on mutating paths


def unchanged_healthz(proxy):
    return http_request(proxy.port, path="/healthz").status == 200


def still_accepting(proxy):
    return http_request(proxy.port, path="/accepting").status == 200


def counters_kept(proxy):
    return stats(proxy)["cluster.web.upstream_rq_200"] >= WEB_REQUESTS


def no_runtime_key(proxy):
    return "get.key" not in runtime_entries(proxy)


def level_unchanged(proxy):
    return proxy.admin("GET", "/logging").text == "active loggers:\n  remora: info\n"


@pytest.mark.parametrize("path,unchanged", [
    ("/healthcheck/fail", unchanged_healthz),
    ("/healthcheck/ok", unchanged_healthz),
    ("/drain_listeners", still_accepting),
    ("/drain_listeners?graceful", still_accepting),
    ("/reset_counters", counters_kept),
    ("/reopen_logs", lambda proxy: proxy.running()),
    ("/runtime_modify?get.key=1", no_runtime_key),
    ("/logging?level=trace", level_unchanged),
    ("/quitquitquit", lambda proxy: proxy.running()),
])
def test_get_on_a_mutating_path_is_405_and_changes_nothing(proxy, path, unchanged):
    response = proxy.admin("GET", path)
    assert (response.status, response.body) == REFUSAL
    time.sleep(0.05)  # a change would be posted to the workers; give it the time to land
    assert unchanged(proxy)
    assert proxy.running()


# ---------------------------------------------------------------- lifecycle


def refused(port: int) -> bool:
    try:
        socket.create_connection((LOOPBACK, port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True


def test_drain_listeners_stops_accepting_but_keeps_open_connections(remora, upstream):
    backend = upstream(respond(200, b"ok"))
    proxy = remora(bootstrap([http_listener([virtual_host([route_to("web")])])],
                             [static_cluster("web", backend.port)]), concurrency=2)
    with HttpClient(proxy.port) as client:
        assert client.request("GET", "/first").status == 200
        response = proxy.admin("POST", "/drain_listeners")
        assert (response.status, response.body) == (200, b"OK\n")
        assert wait_until(lambda: refused(proxy.port), 5), "new connections still accepted"
        kept = client.request("GET", "/second")
        assert (kept.status, kept.header("connection")) == (200, None)
    assert proxy.admin("GET", "/ready").status == 200  # the server itself stays LIVE


def test_graceful_drain_listeners_closes_open_connections(remora, upstream):
    backend = upstream(delayed(0.5, respond(200, b"slow")))
    proxy = remora(bootstrap([http_listener([virtual_host([route_to("web")])])],
                             [static_cluster("web", backend.port)]), concurrency=1)
    with HttpClient(proxy.port, timeout=10) as busy, HttpClient(proxy.port, timeout=10) as idle:
        assert busy.request("GET", "/warm-up").status == 200
        assert idle.request("GET", "/warm-up").status == 200
        busy.send(build_request("GET", "/in-flight"))
        assert backend.wait_for_requests(3)
        response = proxy.admin("POST", "/drain_listeners?graceful")
        assert (response.status, response.body) == (200, b"OK\n")
        last = busy.read_response()
        assert (last.status, last.body, last.header("connection")) == (200, b"slow", "close")
        assert busy.closed_by_peer(timeout=5)
        assert idle.closed_by_peer(timeout=5)
    assert wait_until(lambda: refused(proxy.port), 5)
    assert stats(proxy)["http.http.downstream_cx_drain_close"] == 2


def test_ready_is_503_draining_after_sigterm(remora, upstream):
    backend = upstream(delayed(1.0, respond(200, b"slow but complete")))
    proxy = remora(bootstrap([http_listener([virtual_host([route_to("web")])])],
                             [static_cluster("web", backend.port)]), drain_time_s=5)
    with HttpClient(proxy.port, timeout=10) as client:
        client.send(build_request("GET", "/slow"))
        assert backend.wait_for_requests(1)
        proxy.send_signal(signal.SIGTERM)
        assert wait_until(lambda: proxy.admin("GET", "/ready").status == 503, 3)
        response = proxy.admin("GET", "/ready")
        assert (response.status, response.body) == (503, b"DRAINING\n")
        assert json.loads(proxy.admin("GET", "/server_info").body)["state"] == "DRAINING"
        assert stats(proxy)["server.state"] == 1
        assert client.read_response().status == 200
    assert proxy.wait(timeout=10) == 0


def test_quitquitquit_exits_0(remora, upstream):
    backend = upstream()
    proxy = remora(bootstrap([http_listener([virtual_host([route_to("web")])])],
                             [static_cluster("web", backend.port)]))
    assert proxy.admin("GET", "/quitquitquit").status == 405
    assert proxy.running()
    response = proxy.admin("POST", "/quitquitquit")
    assert (response.status, response.body) == (200, b"OK\n")
    assert proxy.wait(timeout=10) == 0
