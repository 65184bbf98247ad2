"""The admin endpoint (Envoy's paths) of a running remora."""

from __future__ import annotations

import json

import pytest

from harness import bootstrap, http_listener, route_to, static_cluster, virtual_host


@pytest.fixture(scope="module")
def servers(module_remora, module_upstream):
    backend = module_upstream()
    config = bootstrap(
        [http_listener([virtual_host([route_to("backend")])], name="front"),
         http_listener([virtual_host([route_to("backend")])], name="side")],
        [static_cluster("backend", backend.port), static_cluster("spare")])
    return module_remora(config, concurrency=2), backend


@pytest.fixture
def proxy(servers):
    return servers[0]


def test_ready_is_200_live(proxy):
    response = proxy.admin("GET", "/ready")
    assert (response.status, response.body) == (200, b"LIVE\n")


def test_listeners_lists_each_listener_with_its_port(proxy):
    response = proxy.admin("GET", "/listeners")
    assert response.status == 200
    assert response.text == (f"front::127.0.0.1:{proxy.ports['front']}\n"
                             f"side::127.0.0.1:{proxy.ports['side']}\n")


def test_listeners_json(proxy):
    listing = json.loads(proxy.admin("GET", "/listeners?format=json").body)
    assert [entry["name"] for entry in listing["listener_statuses"]] == ["front", "side"]
    assert proxy.ports["front"] != proxy.ports["side"]


def test_clusters_lists_hosts(servers):
    proxy, backend = servers
    response = proxy.admin("GET", "/clusters")
    assert response.status == 200
    host = f"backend::127.0.0.1:{backend.port}"
    assert f"{host}::health_flags::healthy" in response.text.splitlines()
    assert "spare::" not in response.text  # no endpoints, no lines


def test_server_info(proxy):
    response = proxy.admin("GET", "/server_info")
    info = json.loads(response.body)
    assert (response.status, response.header("content-type")) == (200, "application/json")
    assert (info["state"], info["command_line_options"]["concurrency"]) == ("LIVE", 2)
    assert info["version"]


def test_unknown_admin_path_is_404(proxy):
    assert proxy.admin("GET", "/no/such/page").status == 404


def test_quitquitquit_requires_post(proxy):
    assert proxy.admin("GET", "/quitquitquit").status == 405
    assert proxy.running()


def test_quitquitquit_exits_0(remora, upstream):
    backend = upstream()
    proxy = remora(bootstrap([http_listener([virtual_host([route_to("backend")])])],
                             [static_cluster("backend", backend.port)]))
    response = proxy.admin("POST", "/quitquitquit")
    assert (response.status, response.body) == (200, b"OK\n")
    assert proxy.wait(timeout=10) == 0
