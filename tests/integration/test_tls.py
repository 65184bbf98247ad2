"""TLS with real clients: curl (HTTP/1.1 and HTTP/2 over ALPN, client certificates),
plaintext to a TLS port, mutual TLS, and TLS to the upstream. Certificates are made
per test session by tests/support/make_test_certs.sh with the openssl CLI."""

import json
import re
import socket
import subprocess

import pytest

from harness import (REPO_ROOT, ROUTER_FILTER, bootstrap, curl, http_listener, http_request,
                     respond, route_to, static_cluster, virtual_host)

TLS_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
UPSTREAM_TLS_TYPE = ("type.googleapis.com/"
                     "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("certs")
    subprocess.run(["bash", str(REPO_ROOT / "tests/support/make_test_certs.sh"), str(directory)],
                   check=True, capture_output=True, timeout=60)
    return directory


def tls_socket(certs, require_client=False, alpn=("h2", "http/1.1")):
    context = {"@type": TLS_TYPE, "common_tls_context": {
        "alpn_protocols": list(alpn),
        "tls_certificates": [{"certificate_chain": {"filename": str(certs / "server.crt")},
                              "private_key": {"filename": str(certs / "server.key")}}]}}
    if require_client:
        context["require_client_certificate"] = True
        context["common_tls_context"]["validation_context"] = {
            "trusted_ca": {"filename": str(certs / "ca.crt")}}
    return {"name": "envoy.transport_sockets.tls", "typed_config": context}


def tls_listener(certs, cluster, http_filters=None, **tls_options):
    listener = http_listener([virtual_host([route_to(cluster)])], http_filters=http_filters)
    listener["filter_chains"][0]["transport_socket"] = tls_socket(certs, **tls_options)
    return listener


def https(proxy, certs, *args):
    return curl("--cacert", str(certs / "ca.crt"), "--resolve",
                f"server.local:{proxy.port}:127.0.0.1", *args,
                f"https://server.local:{proxy.port}/")


def stat(remora, name):
    body = remora.admin("GET", "/stats?format=json&filter=" + re.escape(name) + "$").text
    values = [s["value"] for s in json.loads(body)["stats"] if s.get("name") == name]
    assert len(values) == 1, body
    return values[0]


def listener_stat(proxy, stat_name):
    return stat(proxy, f"listener.127.0.0.1_{proxy.port}.{stat_name}")


def test_https_http1_and_http2_by_alpn(remora, upstream, certs):
    backend = upstream(respond(200, b"secure"))
    proxy = remora(bootstrap([tls_listener(certs, "backend")], [static_cluster("backend", backend.port)]))
    h1 = https(proxy, certs, "--http1.1", "-w", " %{http_version}")
    h2 = https(proxy, certs, "--http2", "-w", " %{http_version}")
    assert h1.stdout == b"secure 1.1", h1.stderr
    assert h2.stdout == b"secure 2", h2.stderr
    # The upstream learns the client used TLS.
    assert [r.header("x-forwarded-proto") for r in backend.requests] == ["https", "https"]
    assert listener_stat(proxy, "ssl.handshake") == 2
    assert stat(proxy, "http.http.downstream_cx_http2_total") == 1


def test_plaintext_to_tls_port_is_refused_and_counted(remora, upstream, certs):
    backend = upstream()
    proxy = remora(bootstrap([tls_listener(certs, "backend")], [static_cluster("backend", backend.port)]))
    with pytest.raises((ConnectionError, OSError, ValueError, Exception)):
        http_request(proxy.port, timeout=3)
    assert listener_stat(proxy, "ssl.connection_error") == 1
    assert backend.requests == []
    # Everyone else is still served.
    assert https(proxy, certs).returncode == 0


def test_mutual_tls(remora, upstream, certs):
    backend = upstream(respond(200, b"mtls"))
    proxy = remora(bootstrap([tls_listener(certs, "backend", require_client=True)],
                             [static_cluster("backend", backend.port)]))
    ok = https(proxy, certs, "--cert", str(certs / "client.crt"), "--key", str(certs / "client.key"))
    assert ok.stdout == b"mtls", ok.stderr
    no_cert = https(proxy, certs)
    assert no_cert.returncode != 0
    expired = https(proxy, certs, "--cert", str(certs / "expired_client.crt"),
                    "--key", str(certs / "expired_client.key"))
    assert expired.returncode != 0
    unknown_ca = https(proxy, certs, "--cert", str(certs / "other_ca_client.crt"),
                       "--key", str(certs / "other_ca_client.key"))
    assert unknown_ca.returncode != 0
    assert listener_stat(proxy, "ssl.handshake") == 1
    assert listener_stat(proxy, "ssl.fail_verify_no_cert") == 1
    assert listener_stat(proxy, "ssl.fail_verify_error") == 2
    assert len(backend.requests) == 1


def test_rbac_authenticated_principal_from_client_certificate(remora, upstream, certs):
    backend = upstream(respond(200, b"allowed"))
    rbac = {"name": "envoy.filters.http.rbac", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
        "rules": {"action": "ALLOW", "policies": {"client-sa": {
            "permissions": [{"any": True}],
            "principals": [{"authenticated": {"principal_name": {
                "exact": "spiffe://cluster.local/ns/default/sa/client"}}}]}}}}}
    listener = tls_listener(certs, "backend", http_filters=[rbac, ROUTER_FILTER], require_client=True)
    proxy = remora(bootstrap([listener], [static_cluster("backend", backend.port)]))
    ok = https(proxy, certs, "--cert", str(certs / "client.crt"), "--key", str(certs / "client.key"),
               "-w", " %{http_code}")
    assert ok.stdout == b"allowed 200", ok.stderr


def test_upstream_tls_with_sni_and_san_verification(remora, upstream, certs):
    backend = upstream(respond(200, b"via tls upstream"))
    # The TLS upstream is a second Remora terminating TLS in front of the backend.
    terminator = remora(bootstrap([tls_listener(certs, "backend")],
                                  [static_cluster("backend", backend.port)]))

    def cluster(san):
        c = static_cluster("tls_backend", terminator.port)
        c["transport_socket"] = {"name": "envoy.transport_sockets.tls", "typed_config": {
            "@type": UPSTREAM_TLS_TYPE, "sni": "server.local", "common_tls_context": {
                "validation_context": {
                    "trusted_ca": {"filename": str(certs / "ca.crt")},
                    "match_typed_subject_alt_names": [{"san_type": "URI", "matcher": {
                        "exact": san}}]}}}}
        return c

    good = remora(bootstrap([http_listener([virtual_host([route_to("tls_backend")])])],
                            [cluster("spiffe://cluster.local/ns/default/sa/server")]))
    response = http_request(good.port)
    assert (response.status, response.body) == (200, b"via tls upstream")
    assert stat(good, "cluster.tls_backend.ssl.handshake") == 1

    wrong = remora(bootstrap([http_listener([virtual_host([route_to("tls_backend")])])],
                             [cluster("spiffe://cluster.local/ns/default/sa/someone-else")]))
    response = http_request(wrong.port)
    assert response.status == 503
    assert stat(wrong, "cluster.tls_backend.ssl.fail_verify_san") == 1


def test_filter_chain_match_by_sni_and_transport(remora, upstream, certs):
    backends = {name: upstream(respond(200, name.encode())) for name in ("exact", "wild", "plain")}

    def chain(cluster, match, tls):
        listener = http_listener([virtual_host([route_to(cluster)])])
        c = listener["filter_chains"][0]
        c["filter_chain_match"] = match
        if tls:
            c["transport_socket"] = tls_socket(certs)
        return c

    listener = http_listener([virtual_host([route_to("plain")])])
    listener["listener_filters"] = [{"name": "envoy.filters.listener.tls_inspector", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"}}]
    listener["filter_chains"] = [
        chain("exact", {"server_names": ["server.local"], "transport_protocol": "tls"}, True),
        chain("wild", {"server_names": ["*.example.com"], "transport_protocol": "tls"}, True),
        chain("plain", {"transport_protocol": "raw_buffer"}, False),
    ]
    proxy = remora(bootstrap([listener], [static_cluster(n, b.port) for n, b in backends.items()]))

    assert https(proxy, certs).stdout == b"exact"
    wild = curl("-k", "--resolve", f"api.example.com:{proxy.port}:127.0.0.1",
                f"https://api.example.com:{proxy.port}/")
    assert wild.stdout == b"wild", wild.stderr
    assert http_request(proxy.port).body == b"plain"
    # A TLS connection for a name no chain serves finds no chain: closed, counted.
    unknown = curl("-k", "--resolve", f"unknown.test:{proxy.port}:127.0.0.1",
                   f"https://unknown.test:{proxy.port}/")
    assert unknown.returncode != 0
    assert listener_stat(proxy, "no_filter_chain_match") == 1
    assert [len(b.requests) for b in backends.values()] == [1, 1, 1]
